import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import { AppConfig } from '../config';
import { RedisConnections } from '../redis/redis-connections';

export type Invalidation = 'created' | 'changed';

/**
 * Tells every api replica to drop its cached credentials (a key revoked or rotated, a source
 * deleted or its limits changed), over Redis pub/sub. If a message is lost, the cache TTL
 * (KEY_CACHE_TTL_MS, at most 5 s) still bounds how long a stale answer lives.
 */
@Injectable()
export class KeyInvalidationService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(KeyInvalidationService.name);
  private readonly channel: string;
  private publisher?: Redis;
  private subscriber?: Redis;
  private readonly listeners = new Set<(what: Invalidation) => void>();

  constructor(
    private readonly redis: RedisConnections,
    private readonly config: AppConfig,
  ) {
    this.channel = `${config.redis.prefix}:auth:invalidate`;
  }

  onModuleInit(): void {
    if (!this.config.servesApi) return;
    this.subscriber = this.redis.create(this.config.redis.url, 'subscriber');
    this.subscriber.on('message', (_channel: string, message: string) => {
      const what: Invalidation = message.startsWith('created:') ? 'created' : 'changed';
      this.listeners.forEach((l) => l(what));
    });
    // Re-subscribing after a reconnect is ioredis' job (autoResubscribe); a reconnect may
    // have missed messages, so caches are dropped then too.
    this.subscriber.on('ready', () => this.listeners.forEach((l) => l('changed')));
    this.subscriber.subscribe(this.channel).catch((err: Error) => this.logger.warn(`cannot subscribe to key invalidations: ${err.message}`));
  }

  onInvalidate(listener: (what: Invalidation) => void): void {
    this.listeners.add(listener);
  }

  /**
   * Best effort: a failure is logged, and the TTL bounds the delay. `created`: a key was added
   * (only what was remembered as unknown must go); `changed`: a key or a source's limits changed.
   */
  async publish(what: Invalidation = 'changed'): Promise<void> {
    this.listeners.forEach((l) => l(what));
    try {
      this.publisher ??= this.redis.create(this.config.redis.url, 'plain');
      await this.publisher.publish(this.channel, `${what}:${Date.now()}`);
    } catch (err) {
      this.logger.warn(`key invalidation not published (replicas catch up within ${this.config.keyCacheTtlMs} ms): ${(err as Error).message}`);
    }
  }

  onApplicationShutdown(): void {
    this.listeners.clear();
  }
}
