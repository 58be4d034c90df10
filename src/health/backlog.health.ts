import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { AppConfig } from '../config';
import { QueueStatsService } from '../queue/queue-stats.service';

/**
 * Reports the queue backlog against its backpressure limit. It stays "up" when over the limit:
 * taking pods out of service would turn the api's clear 503 + Retry-After into connection errors.
 */
@Injectable()
export class BacklogHealthIndicator {
  constructor(
    private readonly stats: QueueStatsService,
    private readonly health: HealthIndicatorService,
    private readonly config: AppConfig,
  ) {}

  async check(key: string) {
    const limit = this.config.backpressure.maxBacklogEvents;
    try {
      const events = await this.stats.backlogEvents();
      return this.health.check(key).up({ events, limit, state: limit > 0 && events >= limit ? 'over_limit' : 'ok' });
    } catch (err) {
      return this.health.check(key).up({ state: 'unknown', message: (err as Error).message });
    }
  }
}
