import Redis from 'ioredis';
import { REDIS_URL } from './env';

export interface QueueState {
  waiting: number;
  active: number;
  delayed: number;
  paused: number;
  backlogEvents: number;
}

/** Reads the events queue of a QUEUE_PREFIX straight from Redis (any process may own it). */
export async function queueState(prefix: string, url = REDIS_URL): Promise<QueueState> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const k = (s: string) => `${prefix}:events:${s}`;
    const [waiting, active, delayed, paused, backlog] = await Promise.all([
      redis.llen(k('wait')),
      redis.llen(k('active')),
      redis.zcard(k('delayed')),
      redis.llen(k('paused')),
      redis.get(k('backlog-events')),
    ]);
    return { waiting, active, delayed, paused, backlogEvents: Math.max(0, Number(backlog ?? 0)) };
  } finally {
    redis.disconnect();
  }
}

/**
 * Waits until the queue is drained: no waiting, active, delayed or paused job and a backlog of
 * 0, seen twice in a row (a job can be between two lists for an instant). Call it after every
 * request whose events should be stored has been answered: those events are in Redis by then,
 * so a drained queue means the worker has written (or dead-lettered) all of them.
 */
export async function waitForDrain(prefix: string, timeoutMs = 60_000, url = REDIS_URL): Promise<QueueState> {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  let emptySince: number | null = null;
  for (;;) {
    const s = await queueState(prefix, url);
    const empty = s.waiting + s.active + s.delayed + s.paused === 0;
    emptySince = empty ? (emptySince ?? Date.now()) : null;
    // The backlog counter is adjusted after the fact by api and worker; if it stays off zero
    // with every list empty (a crashed process's adjustment), the lists decide.
    const drained = empty && (s.backlogEvents === 0 || Date.now() - emptySince! > 2000);
    quiet = drained ? quiet + 1 : 0;
    if (quiet >= 2) return s;
    if (Date.now() > deadline) throw new Error(`queue ${prefix}:events not drained within ${timeoutMs} ms: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
