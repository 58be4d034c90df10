import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config';
import { MetricsService } from '../metrics/metrics.service';
import { RetryLaterException } from '../common/errors';
import { EventsQueueProducer, QueueUnavailableError } from '../queue/events-queue.producer';
import { BackpressureService } from '../ratelimit/backpressure.service';
import { IncomingEvent, QueuedEvent } from '../queue/queue.constants';
import { EventType } from '../domain/events/event-types';
import { Rejection, validateEvent } from './event-validator';
import { MicroBatcher } from './micro-batcher';

export interface IngestContext {
  sourceId: string;
  requestId?: string;
  ip?: string;
  /** Set when the whole body is small enough that no single event can exceed the limit. */
  bodyBytes?: number;
}

export interface RejectedEvent extends Rejection {
  index: number;
}

export interface IngestResult {
  accepted: number;
  rejected: RejectedEvent[];
}

/** Fields of a batch envelope that apply to every event in it. */
export interface BatchEnvelope {
  context?: Record<string, unknown>;
  integrations?: Record<string, unknown>;
  sentAt?: string;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

@Injectable()
export class IngestService {
  private readonly batcher: MicroBatcher<QueuedEvent>;

  constructor(
    private readonly config: AppConfig,
    private readonly producer: EventsQueueProducer,
    private readonly metrics: MetricsService,
    private readonly backpressure: BackpressureService,
  ) {
    this.batcher = new MicroBatcher((events) => this.producer.enqueue(events), {
      maxItems: config.batching.flushEvents,
      maxDelayMs: config.batching.flushMs,
      maxInFlight: config.batching.maxInFlight,
    });
  }

  /**
   * Validates each event on its own, queues the valid ones, and resolves once they are in
   * Redis. `type` is the route's type; undefined for /v1/batch, where each event names its own.
   */
  async ingest(raw: unknown[], type: EventType | undefined, ctx: IngestContext, envelope: BatchEnvelope = {}): Promise<IngestResult> {
    const receivedAt = new Date().toISOString();
    const rejected: RejectedEvent[] = [];
    const queued: QueuedEvent[] = [];
    const checkSize = ctx.bodyBytes === undefined || ctx.bodyBytes > this.config.limits.maxEventBytes;
    for (let i = 0; i < raw.length; i++) {
      const event = raw[i] as Record<string, any>;
      const eventType = type ?? (isPlainObject(event) ? (event.type as string) : undefined);
      const rejection = validateEvent(event, eventType) ?? (checkSize ? this.sizeRejection(event) : null);
      if (rejection) {
        rejected.push({ index: i, ...rejection });
        continue;
      }
      queued.push({ s: ctx.sourceId, t: receivedAt, ip: ctx.ip, r: ctx.requestId, e: this.normalise(event, eventType as EventType, envelope) });
    }
    for (const r of rejected) this.metrics.eventsRejected.inc({ reason: r.reason });
    if (queued.length > 0) {
      const byType: Record<string, number> = {};
      for (const q of queued) byType[q.e.type] = (byType[q.e.type] ?? 0) + 1;
      if (this.backpressure.current.overLimit) {
        this.metrics.backpressureRejections.inc();
        throw new RetryLaterException(
          'Ingestion is paused: the queue backlog is over its limit while workers catch up. Nothing from this request was accepted; retry after the Retry-After delay.',
          5,
        );
      }
      try {
        await this.batcher.add(queued);
      } catch (err) {
        if (err instanceof QueueUnavailableError) {
          throw new RetryLaterException(`${err.message}. Nothing from this request was accepted; retry after the Retry-After delay.`, 1);
        }
        throw err;
      }
      for (const type in byType) this.metrics.eventsReceived.inc({ type }, byType[type]);
    }
    return { accepted: queued.length, rejected };
  }

  /** Flushes events still waiting for their micro-batch: drainAndClose calls it before the queue closes. */
  drain(): Promise<void> {
    return this.batcher.drain();
  }

  private sizeRejection(event: unknown): Rejection | null {
    // A cheap upper bound settles almost every event; only one that might be over the limit
    // is serialized to measure it exactly.
    if (jsonBytesUpperBound(event, this.config.limits.maxEventBytes) <= this.config.limits.maxEventBytes) return null;
    const bytes = Buffer.byteLength(JSON.stringify(event));
    return bytes > this.config.limits.maxEventBytes
      ? { reason: 'event_too_large', message: `event is ${bytes} bytes; the limit is ${this.config.limits.maxEventBytes}` }
      : null;
  }

  /** Completes the event in place (the parsed body is ours and used once). */
  private normalise(e: Record<string, any>, type: EventType, envelope: BatchEnvelope): IncomingEvent {
    e.type = type;
    if (e.writeKey !== undefined) delete e.writeKey; // a credential, never stored
    if (e.messageId === undefined || e.messageId === null || e.messageId === '') e.messageId = `api-${randomUUID()}`;
    if (envelope.sentAt && !e.sentAt) e.sentAt = envelope.sentAt;
    if (envelope.context) e.context = { ...envelope.context, ...(e.context ?? {}) };
    if (envelope.integrations) e.integrations = { ...envelope.integrations, ...(e.integrations ?? {}) };
    // Validated by the compiled schema above: from here on the event has the contract's shape.
    return e as IncomingEvent;
  }
}

/**
 * An upper bound on the UTF-8 size of JSON.stringify(value), without building the string: every
 * string character counted at its worst case (6 bytes, a \uXXXX escape), numbers at 24. Stops
 * as soon as the bound passes `stopAbove`.
 */
export function jsonBytesUpperBound(value: unknown, stopAbove: number): number {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') total += 2 + v.length * 6;
    else if (typeof v === 'number' || typeof v === 'boolean' || v === null) total += 24;
    else if (Array.isArray(v)) {
      total += 2 + v.length;
      for (const item of v) stack.push(item);
    } else if (typeof v === 'object') {
      total += 2;
      for (const key in v as Record<string, unknown>) {
        total += 4 + key.length * 6;
        stack.push((v as Record<string, unknown>)[key]);
      }
    }
    if (total > stopAbove) return total;
  }
  return total;
}
