import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import Redis, { RedisOptions } from 'ioredis';

/**
 * Creates and owns every Redis connection of the process. Bull does not close connections
 * made through `createClient`, so they are closed here, last, at shutdown.
 */
@Injectable()
export class RedisConnections implements OnApplicationShutdown {
  private readonly clients = new Set<Redis>();
  private closed = false;

  /**
   * Bull's three connection kinds. The blocking and subscriber ones must retry forever; the
   * command client gives up quickly so a request never hangs on a dead Redis.
   */
  create(url: string, type: 'client' | 'subscriber' | 'bclient' | 'plain', extra: RedisOptions = {}): Redis {
    const base: RedisOptions = {
      connectionName: `sluice-${type}`,
      connectTimeout: 5000,
      retryStrategy: (times) => Math.min(times * 200, 2000),
      ...extra,
    };
    if (this.closed) {
      // Bull opens its blocking connection lazily; one asked for during shutdown must not
      // keep the process alive, so it never connects and its commands fail at once.
      const inert = new Redis(url, { ...base, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
      inert.disconnect();
      return inert;
    }
    const client =
      type === 'bclient' || type === 'subscriber'
        ? new Redis(url, { ...base, maxRetriesPerRequest: null, enableReadyCheck: false })
        : new Redis(url, { ...base, maxRetriesPerRequest: 2 });
    this.clients.add(client);
    client.once('end', () => this.clients.delete(client));
    return client;
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.clients].map((c) => (c.status === 'ready' ? c.quit().catch(() => c.disconnect()) : Promise.resolve(c.disconnect()))),
    );
    this.clients.clear();
  }
}
