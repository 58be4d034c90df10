import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import '../queue/bull-internals';
import '../queue/job-rows'; // a rows job's rows come back into job.data.rows
import { AppConfig } from '../config';
import { EventRow } from '../domain/events/event-columns';
import { ProcessHealth } from '../health/process-health';
import { requestContext } from '../logging/request-context';
import { MetricsService } from '../metrics/metrics.service';
import { isRowsJob, jobEventCount, JobName, PersistJob, PersistRowsJob, QueuedEvent, QueueName, unpackJob } from '../queue/queue.constants';
import { jobEvents, parseCopyLine, queuedEventFromRow, queuedEventOfLetter, quarantineReason, rowLines } from '../domain/events/rows-job';
import { QueueStatsService } from '../queue/queue-stats.service';
import { OrphanedJobs } from '../queue/orphaned-jobs';
import { inSpan, linksTo, sampledTraceIds, SpanKind, tracingOn } from '../tracing/trace-context';
import { classifyDbError } from './db-errors';
import { DeadLetter, DeadLettersRepository } from './dead-letters.repository';
import { toEventRow } from '../domain/events/enrichment';
import { EventsRepository } from './events.repository';

export interface PersistOutcome {
  inserted: number;
  deduplicated: number;
  deadLettered: number;
}

/** The job was still waiting out a database outage when the worker shut down: run it again later. */
export class InterruptedError extends Error {
  static readonly PREFIX = 'interrupted:';
  constructor(what: string) {
    super(`${InterruptedError.PREFIX} ${what}`);
  }
}

const DAY_MS = 86_400_000;
// After a reconnect, ioredis resends what was in flight (a job's completion among it); those
// land well within this, so a job is only taken as orphaned once they have.
const RESENT_COMMANDS_GRACE_MS = 1000;

@Injectable()
export class PersistEventsProcessor implements OnModuleInit {
  private readonly logger = new Logger(PersistEventsProcessor.name);
  /** Days whose daily partition this process knows exists (partitions are never dropped behind its back except by retention). */
  private readonly knownDays = new Set<string>();
  private outageSince: number | null = null;
  /** Jobs whose handler is running in this process (see watchConnection). */
  private readonly running = new Set<string>();

  constructor(
    @InjectQueue(QueueName.Events) private readonly queue: Queue<PersistJob>,
    private readonly events: EventsRepository,
    private readonly deadLetters: DeadLettersRepository,
    private readonly metrics: MetricsService,
    private readonly stats: QueueStatsService,
    private readonly health: ProcessHealth,
    private readonly config: AppConfig,
    private readonly orphaned: OrphanedJobs,
  ) {}

  onModuleInit(): void {
    // Bull names the worker connection in a floating promise that rejects (unhandled) when the
    // process shuts down during start-up; the name only serves Queue#getWorkers, unused here.
    // (Pinned by test/integration/bull-internals.spec.ts.)
    this.queue.setWorkerName = () => Promise.resolve();
    this.queue.on('stalled', () => this.metrics.jobsStalled.inc());
    this.watchConnection();
    // Bull reports Redis trouble here (and prints it to stderr when nobody listens).
    let lastError = 0;
    this.queue.on('error', (err: Error) => {
      if (Date.now() - lastError < 5000) return;
      lastError = Date.now();
      this.logger.warn(`queue: ${err?.message ?? err} (repeats within 5 s not logged)`);
    });
    this.metrics.databaseAvailable.set(1);
    this.metrics.consumerUp.set(1);
    // Registered here rather than with @Process so that concurrency comes from validated config.
    this.queue.process(JobName.PersistEvents, this.config.worker.concurrency, (job) => this.handle(job)).catch((err: Error) => {
      // It settles when the queue closes (shutdown); anything else means this worker consumes
      // nothing any more: liveness fails and the process exits, so it is restarted.
      if (this.queue.closing) return;
      this.metrics.consumerUp.set(0);
      this.health.fail('queue-consumer', `queue processing stopped: ${err?.stack ?? err}`);
    });
  }

  /**
   * When the worker's Redis connection drops (Redis restarted, failover, network), the
   * completion of a job that finished meanwhile is lost, and the job would sit in `active` until
   * its lock lapsed and Bull's stalled check ran twice. Once the connection is back, and the
   * commands ioredis resends have had a moment to land, such jobs go back to `wait` at once.
   * One already stored is stored again as nothing new (dedup).
   */
  private watchConnection(): void {
    const client = this.queue.client;
    let dropped = false;
    client.on('close', () => (dropped = true));
    client.on('ready', () => {
      if (!dropped) return;
      dropped = false;
      setTimeout(() => {
        if (this.queue.closing || client.status !== 'ready') return;
        this.orphaned.recover([...this.running]).then(
          (ids) => {
            if (ids.length === 0) return;
            this.metrics.jobsOrphaned.inc(ids.length);
            this.logger.warn(`Redis connection back: ${ids.length} job(s) whose completion was lost put back to wait (${ids.slice(0, 10).join(', ')})`);
          },
          (err: Error) => this.logger.warn(`Redis connection back, but orphaned jobs could not be recovered (Bull's stalled check will): ${err.message}`),
        );
      }, RESENT_COMMANDS_GRACE_MS).unref();
    });
  }

  async handle(job: Job<PersistJob>): Promise<PersistOutcome> {
    const id = String(job.id);
    this.running.add(id);
    try {
      return await this.run(job);
    } finally {
      this.running.delete(id);
    }
  }

  /**
   * The job's span starts a trace of its own in the worker and links to the span of every
   * request whose events the job carries (their traceparents travel in job.data.requests), so
   * a retried job links to the same requests again.
   */
  private run(job: Job<PersistJob>): Promise<PersistOutcome> {
    if (!tracingOn()) return this.runJob(job);
    const requests = job.data.requests;
    const attributes = {
      'sluice.job.id': String(job.id),
      'sluice.job.attempt': job.attemptsMade + 1,
      'sluice.events.count': jobEventCount(job.data),
      'sluice.job.requests': requests.length,
      'sluice.source.ids': [...new Set(requests.map((r) => r.s))],
    };
    return inSpan('events.persist_job', { kind: SpanKind.CONSUMER, root: true, links: linksTo(requests.map((r) => r.tp)), attributes }, async (span) => {
      const outcome = await this.runJob(job);
      span?.setAttributes({ 'sluice.events.inserted': outcome.inserted, 'sluice.events.deduplicated': outcome.deduplicated, 'sluice.events.dead_lettered': outcome.deadLettered });
      return outcome;
    });
  }

  private async runJob(job: Job<PersistJob>): Promise<PersistOutcome> {
    const data = job.data;
    const count = jobEventCount(data);
    const requestIds = [...new Set(data.requests.map((r) => r.r).filter(Boolean))];
    return requestContext.run({ requestId: requestIds.slice(0, 5).join(',') || `job-${job.id}` }, async () => {
      const attempts = job.opts.attempts ?? this.config.worker.attempts;
      const lastAttempt = job.attemptsMade + 1 >= attempts;
      let outcome: PersistOutcome;
      try {
        const attempt = job.attemptsMade + 1;
        const run = isRowsJob(data) ? () => this.persistRows(data, job.id, attempt) : () => this.persist(unpackJob(data), job.id, attempt);
        outcome = await this.throughOutages(run, `job ${job.id}`);
      } catch (err) {
        if (err instanceof InterruptedError || !lastAttempt) {
          if (!(err instanceof InterruptedError)) this.logger.warn(`job ${job.id} attempt ${job.attemptsMade + 1}/${attempts} failed, will retry: ${(err as Error).message}`);
          throw err;
        }
        // Out of attempts on an unexpected error: keep every event, with the reason, in
        // dead_letters (through an outage, if one starts now). If even that fails, the job stays
        // in Bull's failed set and the maintenance sweep moves it later.
        const reason = `failed after ${attempts} attempts: ${(err as Error).message}`;
        const letters: DeadLetter[] = jobEvents(data).map((event) => ({ event, code: 'retries_exhausted', reason }));
        await this.throughOutages(() => this.deadLetters.insert(letters, job.id, attempts), `dead letters of job ${job.id}`);
        this.logger.error(`job ${job.id}: ${letters.length} events dead-lettered (${reason})`);
        outcome = { inserted: 0, deduplicated: 0, deadLettered: letters.length };
      }
      this.finish(count, outcome);
      return outcome;
    });
  }

  /**
   * Runs `work` until it succeeds or fails for a reason other than the database being
   * unavailable. While it is unavailable the job is held (Bull keeps renewing its lock), retried
   * with a capped backoff for as long as it takes, and no attempt is used up; the worker takes no
   * new job meanwhile, since each of its slots holds one. On shutdown it gives the job back.
   */
  async throughOutages<T>(work: () => Promise<T>, what: string): Promise<T> {
    let delay = 100;
    for (;;) {
      try {
        const result = await work();
        if (this.outageSince !== null) {
          this.logger.log(`PostgreSQL is writable again after ${Math.round((Date.now() - this.outageSince) / 1000)} s; resuming`);
          this.outageSince = null;
          this.metrics.databaseAvailable.set(1);
        }
        return result;
      } catch (err) {
        if (classifyDbError(err) !== 'unavailable') throw err;
        if (this.outageSince === null) {
          this.outageSince = Date.now();
          this.logger.warn(`PostgreSQL unavailable (${(err as Error).message}); holding jobs and retrying until it is back`);
        }
        this.metrics.databaseAvailable.set(0);
        this.metrics.databaseOutageRetries.inc();
        if (this.queue.closing) throw new InterruptedError(`${what}: shut down while PostgreSQL was unavailable`);
        await this.sleepUnlessClosing(delay);
        delay = Math.min(delay * 2, this.config.worker.outageMaxBackoffMs);
      }
    }
  }

  /**
   * Writes events; an event PostgreSQL refuses is isolated by splitting the batch in halves
   * until it stands alone, and only that event is dead-lettered.
   */
  async persist(queued: QueuedEvent[], jobId?: string | number, attempt = 1): Promise<PersistOutcome> {
    const letters: DeadLetter[] = [];
    const rows: { row: EventRow; q: QueuedEvent }[] = [];
    for (const q of queued) {
      if (q.v?.a === 'quarantine') {
        letters.push({ event: q, code: 'schema_violation', reason: quarantineReason(q.v) });
        continue;
      }
      try {
        rows.push({ row: toEventRow(q, this.config.worker.partitionDaysAhead), q });
      } catch (err) {
        letters.push({ event: q, code: 'enrichment_failed', reason: `enrichment failed: ${(err as Error).message}` });
      }
    }
    await this.ensurePartitions(new Set(rows.map((r) => r.row.timestamp.slice(0, 10))));
    const inserted = await this.insertIsolating(rows, letters);
    if (letters.length > 0) {
      await this.deadLetters.insert(letters, jobId, attempt);
      this.logger.warn(`${letters.length} event(s) dead-lettered: ${letters[0].reason}`);
    }
    this.observeLag(rows.map((r) => Date.parse(r.row.received_at)));
    return { inserted, deduplicated: queued.length - inserted - letters.length, deadLettered: letters.length };
  }

  /**
   * A rows job (format 2): its COPY lines go to PostgreSQL as they are, no event parsed. Only a
   * row PostgreSQL refuses is parsed, once it stands alone, to be dead-lettered as an event.
   */
  async persistRows(job: PersistRowsJob, jobId?: string | number, attempt = 1): Promise<PersistOutcome> {
    const letters: DeadLetter[] = (job.letters ?? []).map((l) => ({ event: queuedEventOfLetter(job, l), code: l.code, reason: l.reason }));
    await this.ensurePartitions(new Set(job.days));
    const inserted = job.q.length === 0 ? 0 : await this.insertRowsIsolating(job, job.rows, job.q.length, letters);
    if (letters.length > 0) {
      await this.deadLetters.insert(letters, jobId, attempt);
      this.logger.warn(`${letters.length} event(s) dead-lettered: ${letters[0].reason}`);
    }
    this.observeLag(job.q.map((r) => Date.parse(job.requests[r].t)));
    return { inserted, deduplicated: job.q.length + (job.letters?.length ?? 0) - inserted - letters.length, deadLettered: letters.length };
  }

  private async insertRowsIsolating(job: PersistRowsJob, rows: string, count: number, letters: DeadLetter[]): Promise<number> {
    const stop = this.metrics.dbWriteDuration.startTimer();
    try {
      return await this.events.insertCopyLines(rows, count);
    } catch (err) {
      if (classifyDbError(err) !== 'data') throw err;
      const lines = rowLines(rows);
      if (lines.length === 1) {
        const { idx, row } = parseCopyLine(lines[0]);
        const event = queuedEventFromRow(row, job.requests[job.q[idx]]?.r);
        letters.push({ event, code: 'rejected_by_postgres', reason: `rejected by PostgreSQL: ${(err as Error).message}` });
        return 0;
      }
      const mid = lines.length >> 1;
      const first = await this.insertRowsIsolating(job, lines.slice(0, mid).join(''), mid, letters);
      return first + (await this.insertRowsIsolating(job, lines.slice(mid).join(''), lines.length - mid, letters));
    } finally {
      stop();
    }
  }

  /** Every stored event's lag (from its receivedAt, epoch ms); the slowest one's bucket keeps this job's trace as its exemplar. */
  private observeLag(receivedAt: number[]): void {
    const now = Date.now();
    const traced = sampledTraceIds();
    let slowest = -1;
    let oldest = Infinity;
    for (let i = 0; i < receivedAt.length; i++) if (receivedAt[i] < oldest) [slowest, oldest] = [i, receivedAt[i]];
    for (let i = 0; i < receivedAt.length; i++) this.metrics.observeLag((now - receivedAt[i]) / 1000, i === slowest ? traced : undefined);
  }

  /**
   * Old (imported) events get their own day's partition rather than piling up in the default
   * one, within the retention window the api enforces. `days`: UTC days, YYYY-MM-DD.
   */
  private async ensurePartitions(days: Set<string>): Promise<void> {
    const now = Date.now();
    const oldest = now - (this.config.retentionDays + 1) * DAY_MS;
    const newest = now + (this.config.worker.partitionDaysAhead + 1) * DAY_MS;
    const missing: string[] = [];
    for (const day of days) {
      if (this.knownDays.has(day)) continue;
      const start = Date.parse(`${day}T00:00:00.000Z`);
      if (start + DAY_MS > oldest && start <= newest) missing.push(day);
    }
    if (missing.length === 0) return;
    const created = await this.events.ensurePartitionsFor(missing);
    if (created > 0) this.logger.log(`created ${created} daily event partition(s) for ${missing.sort().join(', ')}`);
    missing.forEach((d) => this.knownDays.add(d));
  }

  private async insertIsolating(rows: { row: EventRow; q: QueuedEvent }[], letters: DeadLetter[]): Promise<number> {
    if (rows.length === 0) return 0;
    const stop = this.metrics.dbWriteDuration.startTimer();
    try {
      return await this.events.insertDeduplicated(rows.map((r) => r.row));
    } catch (err) {
      if (classifyDbError(err) !== 'data') throw err;
      if (rows.length === 1) {
        letters.push({ event: rows[0].q, code: 'rejected_by_postgres', reason: `rejected by PostgreSQL: ${(err as Error).message}` });
        return 0;
      }
      const mid = rows.length >> 1;
      return (await this.insertIsolating(rows.slice(0, mid), letters)) + (await this.insertIsolating(rows.slice(mid), letters));
    } finally {
      stop();
    }
  }

  private async sleepUnlessClosing(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until && !this.queue.closing) await new Promise((r) => setTimeout(r, Math.min(100, until - Date.now())));
  }

  private finish(queuedCount: number, outcome: PersistOutcome): void {
    this.metrics.eventsPersisted.inc(outcome.inserted);
    if (outcome.deduplicated > 0) this.metrics.eventsDeduplicated.inc(outcome.deduplicated);
    if (outcome.deadLettered > 0) this.metrics.eventsDeadLettered.inc(outcome.deadLettered);
    this.stats.adjustBacklog(-queuedCount);
  }
}
