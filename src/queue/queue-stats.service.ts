import { InjectQueue } from '@nestjs/bull';
import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bull';
import { MetricsService } from '../metrics/metrics.service';
import { PersistEventsJob, QueueName } from './queue.constants';

const STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'paused'] as const;

/**
 * Queue depth and the count of events not yet persisted. Bull knows jobs, not events, so the
 * api adds each job's event count to a Redis counter and the worker subtracts it when the job
 * is done; when the queue is empty the counter is reset, which bounds any drift a crash leaves.
 */
@Injectable()
export class QueueStatsService implements OnModuleInit, OnModuleDestroy {
  private removeCollector?: () => void;
  private readonly backlogKey: string;

  constructor(
    @InjectQueue(QueueName.Events) private readonly queue: Queue<PersistEventsJob>,
    private readonly metrics: MetricsService,
  ) {
    this.backlogKey = queue.toKey('backlog-events');
  }

  onModuleInit(): void {
    this.removeCollector = this.metrics.onCollect(async () => {
      if (this.queue.client.status !== 'ready') return;
      const counts = await this.jobCounts();
      for (const state of STATES) this.metrics.queueJobs.set({ queue: QueueName.Events, state }, counts[state] ?? 0);
      this.metrics.queueBacklogEvents.set(await this.backlogEvents(counts));
    });
  }

  onModuleDestroy(): void {
    this.removeCollector?.();
  }

  async jobCounts(): Promise<Record<string, number>> {
    // Bull's JobCounts, indexable by state name (its typings leave out `paused`, which it returns).
    const counts: Record<string, number> = { ...(await this.queue.getJobCounts()) };
    return counts;
  }

  async backlogEvents(counts?: Record<string, number>): Promise<number> {
    const c = counts ?? (await this.jobCounts());
    if ((c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.paused ?? 0) === 0) {
      await this.queue.client.set(this.backlogKey, '0');
      return 0;
    }
    return Math.max(0, Number((await this.queue.client.get(this.backlogKey)) ?? 0));
  }

  /** Called after jobs were added (api) or finished (worker). Never fails the caller. */
  adjustBacklog(delta: number): void {
    if (delta === 0) return;
    this.queue.client.incrby(this.backlogKey, delta).catch(() => undefined);
  }
}
