import Redis, { RedisOptions } from 'ioredis';

/**
 * Bull's three connection kinds. The blocking and subscriber ones must retry forever; the
 * command client gives up quickly so a request never hangs on a dead Redis.
 */
export function createRedis(url: string, type: 'client' | 'subscriber' | 'bclient' | 'plain', extra: RedisOptions = {}): Redis {
  const base: RedisOptions = {
    lazyConnect: false,
    connectTimeout: 5000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...extra,
  };
  if (type === 'bclient' || type === 'subscriber') {
    return new Redis(url, { ...base, maxRetriesPerRequest: null, enableReadyCheck: false });
  }
  return new Redis(url, { ...base, maxRetriesPerRequest: 2 });
}
