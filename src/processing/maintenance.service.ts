import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Queue } from 'bull';
import { AppConfig } from '../config';
import { MetricsService } from '../metrics/metrics.service';
import { PersistEventsJob, QueueName } from '../queue/queue.constants';
import { DeadLettersRepository } from './dead-letters.repository';
import { EventsRepository } from './events.repository';

const PARTITION_EVERY_MS = 60 * 60 * 1000;
const FAILED_SWEEP_EVERY_MS = 30 * 1000;

/**
 * The worker's scheduled chores: keep daily partitions created ahead, and move jobs Bull gave
 * up on (whose dead-lettering failed, e.g. while PostgreSQL was down) into dead_letters.
 */
@Injectable()
export class MaintenanceService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(MaintenanceService.name);
  private timers: NodeJS.Timeout[] = [];

  constructor(
    @InjectQueue(QueueName.Events) private readonly queue: Queue<PersistEventsJob>,
    private readonly events: EventsRepository,
    private readonly deadLetters: DeadLettersRepository,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    void this.ensurePartitions();
    void this.sweepFailedJobs();
    this.timers.push(setInterval(() => void this.ensurePartitions(), PARTITION_EVERY_MS).unref());
    this.timers.push(setInterval(() => void this.sweepFailedJobs(), FAILED_SWEEP_EVERY_MS).unref());
  }

  onModuleDestroy(): void {
    this.timers.forEach(clearInterval);
  }

  async ensurePartitions(): Promise<void> {
    try {
      const created = await this.events.ensurePartitions(this.config.worker.partitionDaysAhead);
      if (created > 0) this.logger.log(`created ${created} daily event partition(s)`);
    } catch (err) {
      this.logger.warn(`partition maintenance failed (will retry): ${(err as Error).message}`);
    }
  }

  async sweepFailedJobs(): Promise<number> {
    let moved = 0;
    try {
      if (this.queue.client.status !== 'ready') return 0;
      for (const job of await this.queue.getFailed(0, 99)) {
        const reason = `job failed: ${job.failedReason ?? 'unknown'}`;
        await this.deadLetters.insert(job.data.events.map((event) => ({ event, reason })), job.id, job.attemptsMade);
        await job.remove();
        this.metrics.eventsDeadLettered.inc(job.data.events.length);
        moved += job.data.events.length;
      }
      if (moved > 0) this.logger.warn(`moved ${moved} events of failed jobs to dead_letters`);
    } catch (err) {
      this.logger.warn(`failed-job sweep failed (will retry): ${(err as Error).message}`);
    }
    return moved;
  }
}
