import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import { AppConfig } from '../config';
import { RedisConnections } from '../redis/redis-connections';

/**
 * Stats answers kept in Redis for QUERY_CACHE_TTL_MS, keyed by a hash of the question. A cache
 * that cannot be reached is skipped (the query runs), never an error for the client.
 */
@Injectable()
export class QueryCacheRepository implements OnModuleInit {
  private readonly logger = new Logger(QueryCacheRepository.name);
  private client: Redis | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly redis: RedisConnections,
  ) {}

  /**
   * Connects at start (without waiting: Redis may be down): the client queues nothing while it
   * connects, so a lazily made one would skip the cache for the first questions of a busy api.
   */
  onModuleInit(): void {
    if (this.enabled) void this.redisClient;
  }

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
