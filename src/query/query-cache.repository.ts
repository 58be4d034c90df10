import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import { AppConfig } from '../config';
import { RedisConnections } from '../redis/redis-connections';

/**
 * Stats answers kept in Redis for QUERY_CACHE_TTL_MS, keyed by a hash of the question. A cache
 * that cannot be reached is skipped (the query runs), never an error for the client.
 */
@Injectable()
export class QueryCacheRepository {
  private readonly logger = new Logger(QueryCacheRepository.name);
  private client: Redis | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly redis: RedisConnections,
  ) {}

  get enabled(): boolean {
    return this.config.query.cacheTtlMs > 0;
  }

  private get redisClient(): Redis {
    this.client ??= this.redis.create(this.config.redis.url, 'plain', { maxRetriesPerRequest: 0, enableOfflineQueue: false });
    return this.client;
  }

  keyOf(question: unknown): string {
    return `${this.config.redis.prefix}:qcache:${createHash('sha256').update(JSON.stringify(question)).digest('base64url')}`;
  }

  async get(key: string): Promise<unknown | undefined> {
    try {
      const text = await this.redisClient.get(key);
      return text === null ? undefined : JSON.parse(text);
    } catch (err) {
      this.logger.debug(`query cache unavailable: ${(err as Error).message}`);
      return undefined;
    }
  }

  async set(key: string, value: unknown): Promise<void> {
    try {
      await this.redisClient.set(key, JSON.stringify(value), 'PX', this.config.query.cacheTtlMs);
    } catch (err) {
      this.logger.debug(`query cache unavailable: ${(err as Error).message}`);
    }
  }
}
