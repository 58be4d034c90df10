import Redis from 'ioredis';
import { REDIS_URL } from './env';

/** Deletes every key under a test's prefix. */
export async function deleteRedisPrefix(prefix: string, url = REDIS_URL): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } catch {
    // Redis may be the thing a test stopped; nothing to clean then.
  } finally {
    redis.disconnect();
  }
}
