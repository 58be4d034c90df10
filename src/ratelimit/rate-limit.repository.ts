import { Injectable, OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import type { Result } from 'ioredis';
import { AppConfig } from '../config';
import { RedisConnections } from '../redis/redis-connections';

// The Lua commands defined below (ioredis' documented way to type custom commands).
declare module 'ioredis' {
  interface RedisCommander<Context> {
    sluiceCheckAndCount(...args: (string | number)[]): Result<[number, number], Context>;
    sluiceHit(key: string, ttlMs: number): Result<[number, number], Context>;
    sluiceRefund(numKeys: number, ...args: (string | number)[]): Result<number, Context>;
  }
}

export type LimitName = 'requests' | 'events' | 'daily_quota';

export interface LimitCheck {
  /** null when allowed; otherwise the limit that refused the request. */
  exceeded: LimitName | null;
  limit: number;
  remaining: number;
  /** seconds until the binding window resets */
  resetSeconds: number;
  /** when allowed: what was counted against event windows, so what is not accepted can be refunded */
  charge?: RateLimitCharge;
}

/** Events counted against a request's event windows (events/s and per day). */
export interface RateLimitCharge {
  keys: string[];
  events: number;
}

// Checks every window first and counts only if all allow, so a refused request consumes
// nothing. KEYS: requests, events, daily windows. ARGV: limit and cost per window, TTLs (ms).
// A limit of 0 means none. Returns {index of the refusing window, its count} or, when allowed,
// {0, the new count of the first limited window}.
const CHECK_AND_COUNT = `
local n = #KEYS
for i = 1, n do
  local limit = tonumber(ARGV[i * 3 - 2])
  local cost = tonumber(ARGV[i * 3 - 1])
  if limit > 0 then
    local cur = tonumber(redis.call('GET', KEYS[i]) or '0')
    if cur + cost > limit then return {i, cur} end
  end
end
local first = -1
for i = 1, n do
  local limit = tonumber(ARGV[i * 3 - 2])
  if limit > 0 then
    local cost = tonumber(ARGV[i * 3 - 1])
    local v = redis.call('INCRBY', KEYS[i], cost)
    if v == cost then redis.call('PEXPIRE', KEYS[i], ARGV[i * 3]) end
    if first < 0 then first = v end
  end
end
return {0, first}
`;

// Gives back `cost` to each window that still exists (a refused request's events), never below 0.
const REFUND = `
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    local v = redis.call('DECRBY', KEYS[i], ARGV[1])
    if v < 0 then redis.call('SET', KEYS[i], 0, 'KEEPTTL') end
  end
end
return 0
`;

// The same for one window with no cost model: @nestjs/throttler's storage contract.
const HIT = `
local v = redis.call('INCR', KEYS[1])
if v == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {v, redis.call('PTTL', KEYS[1])}
`;

/**
 * Fixed-window counters in Redis, shared by every api replica: requests and events per second
 * per source, events per UTC day. Fixed windows allow a burst of up to twice the limit across a
 * window boundary; that is the price of one round trip per request.
 */
@Injectable()
export class RateLimitRepository implements OnModuleInit {
  private client?: Redis;
  private readonly prefix: string;

  constructor(
    private readonly redis: RedisConnections,
    private readonly config: AppConfig,
  ) {
    this.prefix = `${config.redis.prefix}:rl`;
  }

  onModuleInit(): void {
    this.client = this.redis.create(this.config.redis.url, 'plain');
    this.client.defineCommand('sluiceCheckAndCount', { numberOfKeys: 3, lua: CHECK_AND_COUNT });
    this.client.defineCommand('sluiceHit', { numberOfKeys: 1, lua: HIT });
    this.client.defineCommand('sluiceRefund', { lua: REFUND });
  }

  /**
   * The connection, once ready. While it is first connecting, callers wait (briefly); once it
   * has been lost they are refused at once rather than queued behind a dead connection.
   */
  private async conn(): Promise<Redis> {
    const c = this.client!;
    if (c.status === 'ready') return c;
    if (c.status === 'connecting' || c.status === 'connect' || c.status === 'wait') {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          new Promise((resolve) => c.once('ready', resolve)),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('Redis not ready')), this.config.batching.enqueueTimeoutMs))),
        ]);
      } finally {
        clearTimeout(timer);
      }
      return c;
    }
    throw new Error(`Redis connection is ${c.status}`);
  }

  async checkAndCount(sourceId: string, limits: { rps: number; eps: number; daily: number }, events: number, now = Date.now()): Promise<LimitCheck> {
    const second = Math.floor(now / 1000);
    const day = Math.floor(now / 86_400_000);
    const nextSecond = (second + 1) * 1000 - now;
    const nextDay = (day + 1) * 86_400_000 - now;
    const eventsKey = `${this.prefix}:{${sourceId}}:e:${second}`;
    const dailyKey = `${this.prefix}:{${sourceId}}:d:${day}`;
    const [index, current] = (await (await this.conn()).sluiceCheckAndCount(
      `${this.prefix}:{${sourceId}}:r:${second}`,
      eventsKey,
      dailyKey,
      limits.rps, 1, 2000,
      limits.eps, events, 2000,
      limits.daily, events, 2 * 86_400_000,
    ));
    if (index === 0) {
      const binding = limits.rps > 0 ? 'rps' : limits.eps > 0 ? 'eps' : 'daily';
      const keys = [...(limits.eps > 0 ? [eventsKey] : []), ...(limits.daily > 0 ? [dailyKey] : [])];
      return {
        exceeded: null,
        limit: limits[binding],
        remaining: Math.max(0, limits[binding] - current),
        resetSeconds: Math.ceil((binding === 'daily' ? nextDay : nextSecond) / 1000),
        charge: keys.length ? { keys, events } : undefined,
      };
    }
    const name: LimitName = index === 1 ? 'requests' : index === 2 ? 'events' : 'daily_quota';
    const limit = index === 1 ? limits.rps : index === 2 ? limits.eps : limits.daily;
    return { exceeded: name, limit, remaining: Math.max(0, limit - current), resetSeconds: Math.max(1, Math.ceil((index === 3 ? nextDay : nextSecond) / 1000)) };
  }

  /**
   * Gives back events counted for a request that did not queue them (refused at validation,
   * backpressure, Redis trouble): the daily quota pays only for accepted events. Atomic per
   * window like the count; a window that already expired is left alone.
   */
  async refund(charge: RateLimitCharge, events: number): Promise<void> {
    if (events <= 0 || charge.keys.length === 0) return;
    await (await this.conn()).sluiceRefund(charge.keys.length, ...charge.keys, Math.min(events, charge.events));
  }

  /** One hit in a window of `ttlMs`; returns the count so far and the window's remaining ms. */
  async hit(key: string, ttlMs: number): Promise<{ hits: number; ttlMs: number }> {
    const [hits, ttl] = await (await this.conn()).sluiceHit(`${this.prefix}:t:${key}`, ttlMs);
    return { hits, ttlMs: Math.max(0, ttl) };
  }
}
