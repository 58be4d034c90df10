import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bull';
import { AppConfig } from '../config';
import { MetricsService } from '../metrics/metrics.service';
import { QueueName } from '../queue/queue.constants';
import { QueueStatsService } from '../queue/queue-stats.service';

const POLL_MS = 500;

export interface BacklogState {
  overLimit: boolean;
  backlogEvents: number;
  limitEvents: number;
  redisMemoryPercent: number | null;
  limitMemoryPercent: number;
  checkedAt: string | null;
}

/**
 * Keeps ingestion from filling Redis when workers fall behind: twice a second it reads the
 * backlog (events queued, not yet persisted) and Redis memory use; over either limit, ingestion
 * answers 503 + Retry-After until it drops again. Requests read the cached state, never Redis.
 */
@Injectable()
export class BackpressureService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(BackpressureService.name);
  private timer?: NodeJS.Timeout;
  private state: BacklogState;

  constructor(
    @InjectQueue(QueueName.Events) private readonly queue: Queue,
    private readonly stats: QueueStatsService,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {
    const b = config.backpressure;
    this.state = { overLimit: false, backlogEvents: 0, limitEvents: b.maxBacklogEvents, redisMemoryPercent: null, limitMemoryPercent: b.maxRedisMemoryPercent, checkedAt: null };
    metrics.backlogLimitEvents.set(b.maxBacklogEvents);
  }

  onModuleInit(): void {
    if (this.config.backpressure.maxBacklogEvents === 0 && this.config.backpressure.maxRedisMemoryPercent === 0) return;
    this.timer = setInterval(() => void this.refresh(), POLL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  get current(): BacklogState {
    return this.state;
  }

  async refresh(): Promise<BacklogState> {
    if (this.queue.client.status !== 'ready') return this.state;
    try {
      const { maxBacklogEvents, maxRedisMemoryPercent } = this.config.backpressure;
      const backlogEvents = await this.stats.backlogEvents();
      let memoryPercent: number | null = null;
      if (maxRedisMemoryPercent > 0) {
        const info = await this.queue.client.info('memory');
        const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
        const max = Number(/maxmemory:(\d+)/.exec(info)?.[1] ?? 0);
        memoryPercent = max > 0 ? Math.round((used / max) * 1000) / 10 : null;
      }
      const overLimit =
        (maxBacklogEvents > 0 && backlogEvents >= maxBacklogEvents) ||
        (memoryPercent !== null && maxRedisMemoryPercent > 0 && memoryPercent >= maxRedisMemoryPercent);
      if (overLimit !== this.state.overLimit) {
        this.logger.warn(overLimit ? `backpressure ON: ${backlogEvents} events queued, Redis memory ${memoryPercent ?? '?'}%` : 'backpressure off');
      }
      this.state = { ...this.state, overLimit, backlogEvents, redisMemoryPercent: memoryPercent, checkedAt: new Date().toISOString() };
      this.metrics.queueBacklogEvents.set(backlogEvents);
    } catch (err) {
      this.logger.debug(`backlog check failed: ${(err as Error).message}`);
    }
    return this.state;
  }
}
