import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { AppConfig } from '../config';
import { MetricsService } from '../metrics/metrics.service';
import { JobName, PersistEventsJob, QueuedEvent, QueueName } from './queue.constants';
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
    @InjectQueue(QueueName.Events) private readonly queue: Queue<PersistEventsJob>,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly stats: QueueStatsService,
  ) {}

  /**
   * Resolves once every event is stored in Redis as part of a job; rejects with
   * QueueUnavailableError within ENQUEUE_TIMEOUT_MS otherwise.
   */
  async enqueue(events: QueuedEvent[]): Promise<void> {
    if (events.length === 0) return;
    const client = this.queue.client;
    if (client.status !== 'ready') throw new QueueUnavailableError(`connection is ${client.status}`);
    const max = this.config.batching.jobMaxEvents;
    const jobs: { name: string; data: PersistEventsJob }[] = [];
    for (let i = 0; i < events.length; i += max) {
      jobs.push({ name: JobName.PersistEvents, data: { events: events.length <= max ? events : events.slice(i, i + max) } });
    }
    const stop = this.metrics.enqueueDuration.startTimer();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.queue.addBulk(jobs),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new QueueUnavailableError(`no answer within ${this.config.batching.enqueueTimeoutMs} ms`)), this.config.batching.enqueueTimeoutMs);
        }),
      ]);
      this.stats.adjustBacklog(events.length);
    } catch (err) {
      if (err instanceof QueueUnavailableError) throw err;
      this.logger.warn(`enqueue failed: ${(err as Error).message}`);
      throw new QueueUnavailableError((err as Error).message);
    } finally {
      clearTimeout(timer);
      stop();
    }
  }
}
