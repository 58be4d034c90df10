import { Injectable, Logger } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { RateLimitRepository } from './rate-limit.repository';

interface ThrottlerStorageRecord {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
}

/**
 * @nestjs/throttler's storage in Redis, so a limit holds across every api replica. Admin and
 * query routes need only PostgreSQL, so while Redis is down they stay usable, unthrottled.
 */
@Injectable()
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly logger = new Logger(RedisThrottlerStorage.name);

  constructor(private readonly limiter: RateLimitRepository) {}

  async increment(key: string, ttl: number, limit: number, _blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    let hits: number;
    let ttlMs: number;
    try {
      ({ hits, ttlMs } = await this.limiter.hit(`${throttlerName}:${key}`, ttl));
    } catch (err) {
      this.logger.warn(`API rate limit not enforced (Redis unavailable): ${(err as Error).message}`);
      return { totalHits: 0, timeToExpire: Math.ceil(ttl / 1000), isBlocked: false, timeToBlockExpire: 0 };
    }
    const seconds = Math.ceil(ttlMs / 1000);
    return { totalHits: hits, timeToExpire: seconds, isBlocked: hits > limit, timeToBlockExpire: hits > limit ? seconds : 0 };
  }
}
