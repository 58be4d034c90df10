import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import '../queue/bull-internals';
import { AppConfig } from '../config';
import { requestContext } from '../logging/request-context';
import { MetricsService } from '../metrics/metrics.service';
import { JobName, PersistEventsJob, QueuedEvent, QueueName } from '../queue/queue.constants';
import { QueueStatsService } from '../queue/queue-stats.service';
import { DeadLetter, DeadLettersRepository } from './dead-letters.repository';
import { EventRow } from '../domain/events/event-columns';
import { toEventRow } from './enrichment';
import { EventsRepository } from './events.repository';

/**
 * PostgreSQL errors that retrying cannot fix: the data itself is refused (class 22, e.g. a NUL
 * character in a string; class 23 integrity). Everything else (connection loss, deadlock,
 * serialization, out of resources) is transient and retried with backoff.
 */
export function isPermanentDbError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

export interface PersistOutcome {
  inserted: number;
  deduplicated: number;
  deadLettered: number;
}

@Injectable()
export class PersistEventsProcessor implements OnModuleInit {
  private readonly logger = new Logger(PersistEventsProcessor.name);

  constructor(
    @InjectQueue(QueueName.Events) private readonly queue: Queue<PersistEventsJob>,
    private readonly events: EventsRepository,
    private readonly deadLetters: DeadLettersRepository,
    private readonly metrics: MetricsService,
    private readonly stats: QueueStatsService,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    // Bull names the worker connection in a floating promise that rejects (unhandled) when the
    // process shuts down during start-up; the name only serves Queue#getWorkers, unused here.
    // (Pinned by test/integration/bull-internals.spec.ts.)
    this.queue.setWorkerName = () => Promise.resolve();
    // Registered here rather than with @Process so that concurrency comes from validated config.
    this.queue.process(JobName.PersistEvents, this.config.worker.concurrency, (job) => this.handle(job)).catch((err: Error) => {
      // Rejects only when the queue is closed while still starting; anything else is fatal.
      if (!this.queue.closing) this.logger.error(`queue processing stopped: ${err.stack}`);
    });
  }

  async handle(job: Job<PersistEventsJob>): Promise<PersistOutcome> {
    const requestIds = [...new Set(job.data.events.map((e) => e.r).filter(Boolean))];
    return requestContext.run({ requestId: requestIds.slice(0, 5).join(',') || `job-${job.id}` }, async () => {
      const attempts = job.opts.attempts ?? this.config.worker.attempts;
      const lastAttempt = job.attemptsMade + 1 >= attempts;
      try {
        const outcome = await this.persist(job.data.events, job.id, job.attemptsMade + 1);
        this.finish(job.data.events.length, outcome);
        return outcome;
      } catch (err) {
        if (!lastAttempt) {
          this.logger.warn(`job ${job.id} attempt ${job.attemptsMade + 1}/${attempts} failed, will retry: ${(err as Error).message}`);
          throw err;
        }
        // Out of attempts: keep every event, with the reason, in dead_letters. If even that
        // fails, the job stays in Bull's failed set and maintenance moves it later.
        const reason = `failed after ${attempts} attempts: ${(err as Error).message}`;
        await this.deadLetters.insert(job.data.events.map((event) => ({ event, reason })), job.id, attempts);
        this.logger.error(`job ${job.id}: ${job.data.events.length} events dead-lettered (${reason})`);
        const outcome = { inserted: 0, deduplicated: 0, deadLettered: job.data.events.length };
        this.finish(job.data.events.length, outcome);
        return outcome;
      }
    });
  }

  /**
   * Writes events; an event PostgreSQL refuses is isolated by splitting the batch in halves
   * until it stands alone, and only that event is dead-lettered.
   */
  async persist(queued: QueuedEvent[], jobId?: string | number, attempt = 1): Promise<PersistOutcome> {
    const letters: DeadLetter[] = [];
    const rows: { row: EventRow; q: QueuedEvent }[] = [];
    for (const q of queued) {
      try {
        rows.push({ row: toEventRow(q), q });
      } catch (err) {
        letters.push({ event: q, reason: `enrichment failed: ${(err as Error).message}` });
      }
    }
    const inserted = await this.insertIsolating(rows, letters);
    if (letters.length > 0) {
      await this.deadLetters.insert(letters, jobId, attempt);
      this.logger.warn(`${letters.length} event(s) dead-lettered: ${letters[0].reason}`);
    }
    const now = Date.now();
    for (const { row } of rows) this.metrics.endToEndLag.observe((now - Date.parse(row.received_at)) / 1000);
    return { inserted, deduplicated: queued.length - inserted - letters.length, deadLettered: letters.length };
  }

  private async insertIsolating(rows: { row: EventRow; q: QueuedEvent }[], letters: DeadLetter[]): Promise<number> {
    if (rows.length === 0) return 0;
    const stop = this.metrics.dbWriteDuration.startTimer();
    try {
      return await this.events.insertDeduplicated(rows.map((r) => r.row));
    } catch (err) {
      if (!isPermanentDbError(err)) throw err;
      if (rows.length === 1) {
        letters.push({ event: rows[0].q, reason: `rejected by PostgreSQL: ${(err as Error).message}` });
        return 0;
      }
      const mid = rows.length >> 1;
      return (await this.insertIsolating(rows.slice(0, mid), letters)) + (await this.insertIsolating(rows.slice(mid), letters));
    } finally {
      stop();
    }
  }

  private finish(queuedCount: number, outcome: PersistOutcome): void {
    this.metrics.eventsPersisted.inc(outcome.inserted);
    if (outcome.deduplicated > 0) this.metrics.eventsDeduplicated.inc(outcome.deduplicated);
    if (outcome.deadLettered > 0) this.metrics.eventsDeadLettered.inc(outcome.deadLettered);
    this.stats.adjustBacklog(-queuedCount);
  }
}
