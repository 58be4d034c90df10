import { HttpException, HttpStatus, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DetailedBadRequest, RetryLaterException } from '../common/errors';
import { AppConfig } from '../config';
import { EventType } from '../domain/events/event-types';
import { clientTime, effectiveRetentionDays, eventTimes, pastRetention } from '../domain/events/timestamps';
import { MetricsService } from '../metrics/metrics.service';
import { EventsQueueProducer, QueueUnavailableError } from '../queue/events-queue.producer';
import { AcceptedEvent, IncomingEvent, JobRequest, packJob } from '../queue/queue.constants';
import { BackpressureService } from '../ratelimit/backpressure.service';
import { inspectValue, InspectionProblem, locateProblem, MAX_NUMBER_GROWTH } from './event-inspection';
import { Rejection, validateEvent } from './event-validator';
import { SuppressionsService } from '../privacy/suppressions.service';
import { MicroBatcher } from './micro-batcher';
import { renderRowsJob } from '../domain/events/rows-job';
import { BatchTracing } from './batch-tracing';
import { currentTraceparent, startSpan } from '../tracing/trace-context';
import { Judgement, PlanRegistry } from '../tracking-plans/plan-registry.service';
import { ViolationsRecorder } from '../tracking-plans/violations.recorder';
import { LiveService } from '../live/live.service';

export interface IngestContext {
  sourceId: string;
  requestId?: string;
  ip?: string;
  /** Set when the whole body is small enough that no single event can exceed the limit. */
  bodyBytes?: number;
  /** The source's own retention (days), when it keeps less than RETENTION_DAYS. */
  retentionDays?: number | null;
}

export interface RejectedEvent extends Rejection {
  index: number;
}

export interface IngestResult {
  accepted: number;
  rejected: RejectedEvent[];
  /** Valid events of suppressed people: dropped, neither stored nor dead-lettered. */
  suppressed: number;
  /** Valid events the source's tracking plan drops (mode drop): neither stored nor dead-lettered. */
  dropped: number;
}

/** Fields of a batch envelope that apply to every event in it (already checked by the controller). */
export interface BatchEnvelope {
  context?: Record<string, unknown>;
  integrations?: Record<string, unknown>;
  sentAt?: string;
  /** at most the bytes context + integrations add to each event as stored, keys included (set by inspectEnvelope) */
  bytes?: number;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

const PROBLEM: Record<InspectionProblem, (where: string, depth: number) => Rejection> = {
  too_deep: (where, depth) => ({ reason: 'event_too_deep', message: `${where} nests deeper than ${depth} levels of objects and arrays` }),
  invalid_text: (where) => ({
    reason: 'invalid_text',
    message: `${where} contains a NUL character (\\u0000) or a lone UTF-16 surrogate (such as \\ud800), which cannot be stored; remove or replace it`,
  }),
  invalid_number: (where) => ({ reason: 'invalid_number', message: `${where} is a number too large to represent (it would be stored as null)` }),
};

@Injectable()
export class IngestService {
  private readonly batcher: MicroBatcher<AcceptedEvent>;
  private readonly tracing = new BatchTracing();

  constructor(
    private readonly config: AppConfig,
    private readonly producer: EventsQueueProducer,
    private readonly metrics: MetricsService,
    private readonly backpressure: BackpressureService,
    private readonly suppressions: SuppressionsService,
    private readonly plans: PlanRegistry,
    private readonly violations: ViolationsRecorder,
    private readonly live: LiveService,
  ) {
    const futureDays = config.worker.partitionDaysAhead;
    // rows: each job's events rendered in their stored form here, once (the worker parses none);
    // events: as JSON, for the worker to enrich (less CPU here, more there).
    const pack = config.batching.jobFormat === 'rows' ? (slice: AcceptedEvent[]) => renderRowsJob(slice, futureDays) : packJob;
    this.batcher = new MicroBatcher((events) => this.tracing.flush(events, () => this.producer.enqueue(events, pack)), {
      maxItems: config.batching.flushEvents,
      maxDelayMs: config.batching.flushMs,
      maxInFlight: config.batching.maxInFlight,
    });
  }

  /**
   * Checks a batch envelope once for the whole request (it is stored once per job and merged
   * into each event by the worker). Returns the rejection that refuses the request, if any.
   */
  inspectEnvelope(envelope: BatchEnvelope): Rejection | null {
    const depth = this.config.limits.maxEventDepth - 1; // merged one level down, into each event
    let bytes = 0;
    for (const field of ['context', 'integrations'] as const) {
      const value = envelope[field];
      if (value === undefined) continue;
      const found = inspectValue(value, { maxDepth: depth, stopAbove: Number.MAX_SAFE_INTEGER });
      if (found.problem) {
        const at = locateProblem(value, found.problem, depth);
        return PROBLEM[found.problem](`the batch ${field}${at === 'the event' ? '' : ` (${at})`}`, this.config.limits.maxEventDepth);
      }
      // `,"context":{…}` when merged into an event that has none of its own
      bytes += Buffer.byteLength(JSON.stringify(value)) + field.length + 4;
    }
    envelope.bytes = bytes;
    return null;
  }

  /** One event of the route's type: 400 with the reason when it is not valid. */
  async ingestOne(type: EventType, body: unknown, ctx: IngestContext): Promise<IngestResult> {
    const result = await this.ingest([body], type, ctx);
    if (result.accepted === 0 && result.suppressed === 0 && result.dropped === 0) {
      const r = result.rejected[0];
      throw new DetailedBadRequest(r.message, { reason: r.reason, accepted: 0, rejected: result.rejected });
    }
    return result;
  }

  /** `{"batch": [...], "context"?, "integrations"?, "sentAt"?}`: each event accepted or rejected on its own. */
  async ingestBatch(body: unknown, ctx: IngestContext): Promise<IngestResult> {
    const b = body as { batch?: unknown; context?: unknown; integrations?: unknown; sentAt?: unknown } | null;
    if (!b || typeof b !== 'object' || !Array.isArray(b.batch)) {
      throw new DetailedBadRequest('The body must be an object with a "batch" array of events.', { reason: 'invalid_batch' });
    }
    if (b.batch.length === 0) throw new DetailedBadRequest('"batch" is empty: send at least one event.', { reason: 'empty_batch' });
    const { maxBatchEvents, maxContextFanoutBytes } = this.config.limits;
    if (b.batch.length > maxBatchEvents) {
      throw new DetailedBadRequest(`"batch" holds ${b.batch.length} events; at most ${maxBatchEvents} are allowed per request. Split it into smaller batches.`, { reason: 'batch_too_long' });
    }
    if (b.sentAt !== undefined && b.sentAt !== null && clientTime(b.sentAt) === null) {
      throw new DetailedBadRequest('sentAt must be an ISO 8601 date-time string between the years 0001 and 9999.', { reason: 'invalid_field' });
    }
    const envelope: BatchEnvelope = {
      context: isPlainObject(b.context) ? b.context : undefined,
      integrations: isPlainObject(b.integrations) ? b.integrations : undefined,
      sentAt: typeof b.sentAt === 'string' ? b.sentAt : undefined,
    };
    const bad = this.inspectEnvelope(envelope);
    if (bad) throw new DetailedBadRequest(bad.message, { reason: bad.reason });
    // Each event is stored with the envelope merged in: bound what one request can cost.
    const fanout = (envelope.bytes ?? 0) * b.batch.length;
    if (maxContextFanoutBytes > 0 && fanout > maxContextFanoutBytes) {
      throw new HttpException(
        {
          message: `The batch context/integrations (${envelope.bytes} bytes) would be stored with each of its ${b.batch.length} events (${fanout} bytes; the limit is ${maxContextFanoutBytes}). Send context with each event, or in smaller batches.`,
          reason: 'batch_context_fanout',
        },
        HttpStatus.PAYLOAD_TOO_LARGE,
      );
    }
    const result = await this.ingest(b.batch, undefined, ctx, envelope);
    if (result.accepted === 0 && result.suppressed === 0 && result.dropped === 0) {
      throw new DetailedBadRequest('No event in the batch was valid; see "rejected".', { accepted: 0, rejected: result.rejected });
    }
    return result;
  }

  /**
   * Events sent again on behalf of their original request (a dead letter's fix and replay): each
   * is validated exactly as at ingestion, then queued with its original source, receive time, ip
   * and request id, so the worker stores it as it would have, and its dedup claim keeps it once.
   * Resolves once the accepted ones are in Redis.
   */
  async resubmit(items: { req: JobRequest; event: unknown }[]): Promise<{ accepted: number[]; rejected: RejectedEvent[] }> {
    const now = Date.now();
    const accepted: AcceptedEvent[] = [];
    const indexes: number[] = [];
    const rejected: RejectedEvent[] = [];
    const judged: [string, IncomingEvent, Judgement][] = [];
    items.forEach(({ req, event }, index) => {
      const rejection = this.check(event, now);
      const e0 = event as Record<string, unknown>;
      if (rejection) rejected.push({ index, ...rejection });
      else if (this.suppressions.isSuppressed(req.s, e0.userId, e0.anonymousId)) rejected.push({ index, reason: 'suppressed', message: 'the person this event belongs to is suppressed: it is not stored' });
      else {
        const valid = event as Record<string, unknown>; // check() passed: an object with a known type
        const e = this.normalise(valid, valid.type as EventType, {});
        // A replayed event meets the source's plan as it stands now (a fixed quarantined event passes).
        const j = this.plans.judge(req.s, e);
        if (j) judged.push([req.s, e, j]);
        if (j?.action === 'drop') rejected.push({ index, reason: 'tracking_plan_drop', message: `the source's tracking plan (${j.plan}) drops this event: ${j.violations.map((v) => v.message).join('; ')}` });
        else {
          accepted.push(j && j.action !== 'allow' ? { req, e, v: { a: j.action, p: j.plan, v: j.violations } } : { req, e });
          indexes.push(index);
        }
      }
    });
    if (accepted.length > 0) {
      if (this.backpressure.current.overLimit) throw new RetryLaterException('Ingestion is paused: the queue backlog is over its limit while workers catch up; replay again after the Retry-After delay.', 5);
      try {
        await this.batcher.add(accepted);
      } catch (err) {
        if (err instanceof QueueUnavailableError) throw new RetryLaterException(`${err.message}; nothing was replayed, try again.`, 1);
        throw err;
      }
    }
    for (const [sourceId, e, j] of judged) this.violations.record(sourceId, e, j, now);
    return { accepted: indexes, rejected };
  }

  /** What ingestion would say of one event on its own (its `type` field names its call): null if valid. */
  check(event: unknown, now = Date.now()): Rejection | null {
    const type = isPlainObject(event) ? (event.type as string) : undefined;
    return validateEvent(event, type) ?? this.contentRejection(event as Record<string, unknown>, {}, undefined, now, this.config.retentionDays);
  }

  /**
   * Validates each event on its own, queues the valid ones, and resolves once they are in
   * Redis. `type` is the route's type; undefined for /v1/batch, where each event names its own.
   */
  private async ingest(raw: unknown[], type: EventType | undefined, ctx: IngestContext, envelope: BatchEnvelope = {}): Promise<IngestResult> {
    const now = Date.now();
    const receivedAt = new Date(now).toISOString();
    const retentionDays = effectiveRetentionDays(ctx.retentionDays, this.config.retentionDays);
    const rejected: RejectedEvent[] = [];
    const accepted: AcceptedEvent[] = [];
    let suppressed = 0;
    let dropped = 0;
    const judged: [IncomingEvent, Judgement][] = [];
    const req: JobRequest = { s: ctx.sourceId, t: receivedAt, ip: ctx.ip, r: ctx.requestId };
    if (envelope.context) req.context = envelope.context;
    if (envelope.integrations) req.integrations = envelope.integrations;
    // The request's trace context travels with its events, so the worker's job span links to it.
    const tp = currentTraceparent();
    if (tp) req.tp = tp;
    const validation = startSpan('ingest.validate', { attributes: { 'sluice.source.id': ctx.sourceId, 'sluice.events.received': raw.length } });
    for (let i = 0; i < raw.length; i++) {
      const event = raw[i] as Record<string, unknown>;
      const eventType = type ?? (isPlainObject(event) ? (event.type as string) : undefined);
      const rejection = validateEvent(event, eventType) ?? this.contentRejection(event, envelope, ctx.bodyBytes, now, retentionDays);
      if (rejection) {
        rejected.push({ index: i, ...rejection });
        continue;
      }
      if (this.suppressions.isSuppressed(ctx.sourceId, event.userId, event.anonymousId)) {
        suppressed++;
        continue;
      }
      const e = this.normalise(event, eventType as EventType, envelope);
      const j = this.plans.judge(ctx.sourceId, e, envelope.context);
      if (j) {
        judged.push([e, j]);
        if (j.action === 'drop') {
          dropped++;
          continue;
        }
      }
      accepted.push(j && (j.action === 'flag' || j.action === 'quarantine') ? { req, e, v: { a: j.action, p: j.plan, v: j.violations } } : { req, e });
    }
    validation?.setAttributes({ 'sluice.events.accepted': accepted.length, 'sluice.events.rejected': rejected.length, 'sluice.events.suppressed': suppressed, 'sluice.events.dropped': dropped });
    validation?.end();
    this.suppressions.countDropped(suppressed);
    for (const r of rejected) this.metrics.eventsRejected.inc({ reason: r.reason });
    if (accepted.length > 0) {
      const byType: Record<string, number> = {};
      for (const a of accepted) byType[a.e.type] = (byType[a.e.type] ?? 0) + 1;
      if (this.backpressure.current.overLimit) {
        this.metrics.backpressureRejections.inc();
        throw new RetryLaterException(
          'Ingestion is paused: the queue backlog is over its limit while workers catch up. Nothing from this request was accepted; retry after the Retry-After delay.',
          5,
        );
      }
      try {
        this.tracing.waitStarts(req, accepted.length);
        await this.batcher.add(accepted);
      } catch (err) {
        this.tracing.abandon(req);
        if (err instanceof QueueUnavailableError) {
          throw new RetryLaterException(`${err.message}. Nothing from this request was accepted; retry after the Retry-After delay.`, 1);
        }
        throw err;
      }
      for (const type in byType) this.metrics.eventsReceived.inc({ type }, byType[type]);
      // In Redis now (the request gets 200): the live debugger's turn, one Set lookup when nobody listens.
      this.live.offer(ctx.sourceId, accepted);
    }
    // Counted once the request's events are queued: a request answered 503 is sent again.
    for (const [e, j] of judged) this.violations.record(ctx.sourceId, e, j, now);
    return { accepted: accepted.length, rejected, suppressed, dropped };
  }

  /** Flushes events still waiting for their micro-batch: drainAndClose calls it before the queue closes. */
  drain(): Promise<void> {
    return this.batcher.drain();
  }

  /**
   * Depth, storable text and numbers, size as stored, and age: what the schema cannot say.
   * `bodyBytes`, the size of an uncompressed body, bounds each event in it.
   */
  private contentRejection(event: Record<string, unknown>, envelope: BatchEnvelope, bodyBytes: number | undefined, now: number, retentionDays: number): Rejection | null {
    const { maxEventBytes, maxEventDepth } = this.config.limits;
    const envelopeBytes = envelope.bytes ?? 0;
    const budget = maxEventBytes - envelopeBytes;
    // Every part of the event is checked, unless it is certainly too large (then refused whole).
    const found = inspectValue(event, { maxDepth: maxEventDepth, stopAbove: maxEventBytes });
    if (found.problem) return PROBLEM[found.problem](locateProblem(event, found.problem, maxEventDepth), maxEventDepth);
    if (found.exceeded) return { reason: 'event_too_large', message: `event is more than ${maxEventBytes} bytes as stored; the limit is ${maxEventBytes}` };
    // A small body bounds the event as stored, with the envelope merged in, and then it needs no
    // measuring: JSON.stringify writes no string or key longer than its JSON source, only
    // numbers can grow (`1e20` is stored as 21 digits).
    const sizeCertain = bodyBytes !== undefined && bodyBytes + found.numbers * MAX_NUMBER_GROWTH + envelopeBytes + 128 <= maxEventBytes;
    if (!sizeCertain && found.upperBound > budget) {
      // The bound says it might be too large: measure it exactly, as stored (envelope merged in).
      // Depth is bounded by now, so JSON.stringify cannot overflow the stack.
      const merged = envelope.context || envelope.integrations ? mergedForSize(event, envelope) : event;
      const bytes = Buffer.byteLength(JSON.stringify(merged));
      if (bytes > maxEventBytes) {
        return { reason: 'event_too_large', message: `event is ${bytes} bytes as stored${merged === event ? '' : ' (with the batch context merged in)'}; the limit is ${maxEventBytes}` };
      }
    }
    const times = eventTimes(now, { ...event, sentAt: event.sentAt ?? envelope.sentAt }, this.config.worker.partitionDaysAhead);
    if (pastRetention(times.timestamp, now, retentionDays)) {
      return {
        reason: 'timestamp_past_retention',
        message: `the event's time (${new Date(times.timestamp).toISOString()}, after clock-skew correction) is older than the retention of ${retentionDays} days${retentionDays < this.config.retentionDays ? ' this source keeps' : ''}`,
      };
    }
    return null;
  }

  /** Completes the event in place (the parsed body is ours and used once). */
  private normalise(e: Record<string, unknown>, type: EventType, envelope: BatchEnvelope): IncomingEvent {
    e.type = type;
    if (e.writeKey !== undefined) delete e.writeKey; // a credential, never stored
    if (e.messageId === undefined || e.messageId === null || e.messageId === '') e.messageId = `api-${randomUUID()}`;
    if (envelope.sentAt && !e.sentAt) e.sentAt = envelope.sentAt;
    // Validated by the compiled schema above: from here on the event has the contract's shape.
    return e as IncomingEvent;
  }
}

function mergedForSize(e: Record<string, unknown>, envelope: BatchEnvelope): Record<string, unknown> {
  const own = (v: unknown) => (isPlainObject(v) ? v : {});
  return {
    ...e,
    ...(envelope.context ? { context: { ...envelope.context, ...own(e.context) } } : {}),
    ...(envelope.integrations ? { integrations: { ...envelope.integrations, ...own(e.integrations) } } : {}),
  };
}
