import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { AppConfig } from '../config';
import { MetricsService } from '../metrics/metrics.service';
import { annotateActiveSpan } from '../tracing/trace-context';
import { addPersistJobs } from './job-rows';
import { JobName, PersistJob, QueueName } from './queue.constants';
import { QueueStatsService } from './queue-stats.service';

export class QueueUnavailableError extends Error {
  constructor(reason: string) {
    super(`The event queue (Redis) is unavailable: ${reason}`);
  }
}

/** The only code that adds jobs to the events queue. */
@Injectable()
export class EventsQueueProducer {
  private readonly logger = new Logger(EventsQueueProducer.name);

  constructor(
    @InjectQueue(QueueName.Events) private readonly queue: Queue<PersistJob>,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly stats: QueueStatsService,
  ) {}

  /**
   * Resolves once every event is stored in Redis as part of a job (and, in `replicas` mode,
   * acknowledged by REDIS_WAIT_REPLICAS replicas); rejects with QueueUnavailableError within
   * ENQUEUE_TIMEOUT_MS otherwise. Jobs a failed call did add are harmless: the client retries
   * and the worker's dedup stores each event once. `pack` makes one job's payload of at most
   * JOB_MAX_EVENTS events (ingestion renders rows: renderRowsJob in src/domain/events/).
   */
  async enqueue<T>(events: T[], pack: (events: T[]) => PersistJob): Promise<void> {
    if (events.length === 0) return;
    const client = this.queue.client;
    if (client.status !== 'ready') throw new QueueUnavailableError(`connection is ${client.status}`);
    const max = this.config.batching.jobMaxEvents;
    const jobs: { name: string; data: PersistJob }[] = [];
    for (let i = 0; i < events.length; i += max) {
      jobs.push({ name: JobName.PersistEvents, data: pack(events.length <= max ? events : events.slice(i, i + max)) });
    }
    const stop = this.metrics.enqueueDuration.startTimer();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.add(jobs),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new QueueUnavailableError(`no answer within ${this.config.batching.enqueueTimeoutMs} ms`)), this.config.batching.enqueueTimeoutMs);
        }),
      ]);
      this.stats.adjustBacklog(events.length);
    } catch (err) {
      this.metrics.enqueueFailures.inc();
      if (err instanceof QueueUnavailableError) throw err;
      this.logger.warn(`enqueue failed: ${(err as Error).message}`);
      throw new QueueUnavailableError((err as Error).message);
    } finally {
      clearTimeout(timer);
      stop();
    }
  }

  private async add(jobs: { name: string; data: PersistJob }[]): Promise<void> {
    // One MULTI, each rows job with its rows beside its JSON (src/queue/job-rows.ts). A job Redis
    // refused inside the transaction (NOSCRIPT, LOADING, OOM, a script error) fails the whole
    // call, so its request is answered 503, never 200.
    let ids: string[];
    try {
      ids = await addPersistJobs(this.queue, jobs);
    } catch (err) {
      throw new QueueUnavailableError((err as Error).message);
    }
    annotateActiveSpan({ 'sluice.jobs.count': ids.length, 'sluice.job.ids': ids });
    const { durability, waitReplicas, waitTimeoutMs } = this.config.redis;
    if (durability === 'replicas') {
      // WAIT covers every write this connection made before it, so our MULTI too.
      const acked = Number(await this.queue.client.wait(waitReplicas, waitTimeoutMs));
      if (acked < waitReplicas) {
        throw new QueueUnavailableError(`only ${acked} of ${waitReplicas} Redis replica(s) acknowledged the write within ${waitTimeoutMs} ms`);
      }
    }
  }
}
