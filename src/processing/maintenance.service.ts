import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config';
import { MetricsService } from '../metrics/metrics.service';
import { EventsQueueProducer } from '../queue/events-queue.producer';
import { PersistJob, QueuedEvent, QueueName } from '../queue/queue.constants';
import { acceptedAgain, jobEvents, renderRowsJob } from '../domain/events/rows-job';
import { QueueStatsService } from '../queue/queue-stats.service';
import { DeadLettersRepository } from './dead-letters.repository';
import { EventsRepository } from './events.repository';
import { InterruptedError } from './persist-events.processor';

const PARTITION_EVERY_MS = 60 * 60 * 1000;
const FAILED_SWEEP_EVERY_MS = 30 * 1000;
const SWEEP_LOCK_MS = 60 * 1000;
// Bull's failedReason for a job moved to failed after maxStalledCount stalls (lua moveStalledJobsToWait).
const STALLED_TOO_OFTEN = /stalled more than allowable limit/i;

const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * The worker's scheduled chores: keep daily partitions created ahead (and the default partition
 * empty), and deal with jobs Bull gave up on:
 * - a job interrupted by a shutdown during a database outage is queued again, whole;
 * - a job that killed its worker JOB_MAX_STALLS times is split in halves and queued again, so the
 *   event that kills workers ends up alone, and only it is dead-lettered (`worker_crash`);
 * - any other failed job's events go to dead_letters (e.g. its dead-lettering failed).
 * One sweeper at a time across all workers (a Redis lock), job by job, each job's outcome written
 * before the job is removed; a sweep that dies half-way runs again without writing anything twice.
 */
@Injectable()
export class MaintenanceService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(MaintenanceService.name);
  private timers: NodeJS.Timeout[] = [];
  private readonly sweepLockKey: string;

  constructor(
    @InjectQueue(QueueName.Events) private readonly queue: Queue<PersistJob>,
    private readonly events: EventsRepository,
    private readonly deadLetters: DeadLettersRepository,
    private readonly producer: EventsQueueProducer,
    private readonly stats: QueueStatsService,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {
    this.sweepLockKey = queue.toKey('sweep-lock');
  }

  onApplicationBootstrap(): void {
    void this.maintainPartitions();
    void this.sweepFailedJobs();
    this.timers.push(setInterval(() => void this.maintainPartitions(), PARTITION_EVERY_MS).unref());
    this.timers.push(setInterval(() => void this.sweepFailedJobs(), FAILED_SWEEP_EVERY_MS).unref());
  }

  onModuleDestroy(): void {
    this.timers.forEach(clearInterval);
  }

  /** Partitions ahead; rows that reached the default partition moved to their day's; the gauge. */
  async maintainPartitions(): Promise<void> {
    try {
      const created = await this.events.ensurePartitions(this.config.worker.partitionDaysAhead);
      if (created > 0) this.logger.log(`created ${created} daily event partition(s)`);
      const now = Date.now();
      const window = (d: string) => {
        const t = Date.parse(`${d}T00:00:00Z`);
        return t >= now - (this.config.retentionDays + 1) * 86_400_000 && t <= now + (this.config.worker.partitionDaysAhead + 1) * 86_400_000;
      };
      const stray = (await this.events.daysInDefaultPartition()).filter(window);
      if (stray.length > 0) {
        const moved = await this.events.ensurePartitionsFor(stray);
        this.logger.log(`moved rows of ${stray.length} day(s) out of events_default (${moved} partition(s) created)`);
      }
      this.metrics.defaultPartitionRows.set(await this.events.defaultPartitionRows());
    } catch (err) {
      this.logger.warn(`partition maintenance failed (will retry): ${(err as Error).message}`);
    }
  }

  async sweepFailedJobs(): Promise<number> {
    const client = this.queue.client;
    if (client.status !== 'ready') return 0;
    const token = randomUUID();
    let handled = 0;
    try {
      if ((await client.set(this.sweepLockKey, token, 'PX', SWEEP_LOCK_MS, 'NX')) !== 'OK') return 0;
      for (;;) {
        const batch = await this.queue.getFailed(0, 49);
        if (batch.length === 0) break;
        let progressed = false;
        for (const job of batch) {
          try {
            await this.sweepOne(job);
            handled++;
            progressed = true;
          } catch (err) {
            // This job stays for the next sweep; the ones behind it are not held up by it.
            this.metrics.failedJobsSwept.inc({ outcome: 'error' });
            this.logger.warn(`failed job ${job.id} not swept (will retry): ${(err as Error).message}`);
          }
          await client.pexpire(this.sweepLockKey, SWEEP_LOCK_MS);
        }
        if (!progressed) break;
      }
    } catch (err) {
      this.logger.warn(`failed-job sweep stopped (will retry): ${(err as Error).message}`);
    } finally {
      await client.eval(RELEASE_LOCK, 1, this.sweepLockKey, token).catch(() => undefined);
    }
    return handled;
  }

  private async sweepOne(job: Job<PersistJob>): Promise<void> {
    const reason = job.failedReason ?? 'unknown';
    const events = jobEvents(job.data);
    if (reason.startsWith(InterruptedError.PREFIX)) {
      await this.requeue([events]);
      this.metrics.failedJobsSwept.inc({ outcome: 'requeued' });
      this.logger.log(`job ${job.id} (${events.length} events) was interrupted during a database outage: queued again`);
    } else if (STALLED_TOO_OFTEN.test(reason) && events.length > 1) {
      const mid = events.length >> 1;
      await this.requeue([events.slice(0, mid), events.slice(mid)]);
      this.metrics.jobsSplit.inc();
      this.metrics.failedJobsSwept.inc({ outcome: 'split' });
      this.logger.warn(`job ${job.id} killed its worker ${this.config.worker.maxStalls} times: split into two jobs of ${mid} and ${events.length - mid} events to isolate the cause`);
    } else {
      const crash = STALLED_TOO_OFTEN.test(reason);
      const written = await this.deadLetters.insert(
        events.map((event) => ({
          event,
          code: crash ? ('worker_crash' as const) : ('retries_exhausted' as const),
          reason: crash ? `the worker died ${this.config.worker.maxStalls} times while writing this event alone: ${reason}` : `job failed: ${reason}`,
        })),
        job.id,
        job.attemptsMade,
      );
      this.metrics.eventsDeadLettered.inc(written);
      this.metrics.failedJobsSwept.inc({ outcome: 'dead_lettered' });
      this.logger.warn(`moved ${events.length} event(s) of failed job ${job.id} to dead_letters (${reason})`);
    }
    await job.remove();
    // The failed job's events never reached the worker's "done": take them off the backlog.
    this.stats.adjustBacklog(-events.length);
  }

  /** New jobs for these groups of events (each group one job); dedup makes a repeat harmless. */
  private async requeue(groups: QueuedEvent[][]): Promise<void> {
    const futureDays = this.config.worker.partitionDaysAhead;
    for (const group of groups) await this.producer.enqueue(acceptedAgain(group), (slice) => renderRowsJob(slice, futureDays));
  }
}
