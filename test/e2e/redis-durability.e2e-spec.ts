import Redis from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisDurabilityService } from '../../src/queue/redis-durability.service';
import { countEvents, createSource, startApp, TestApp, waitFor } from '../support/app';
import { waitForDrain } from '../support/drain';
import { freePort, PrivateRedis } from '../support/redis-server';

const track = (t: TestApp, key: string, messageId: string) => t.http.post('/v1/track').set('X-Write-Key', key).send({ userId: 'u', event: 'd', messageId });

describe('enqueue checks every job it adds', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  it('a job Redis refuses inside the MULTI (a script error) makes the request 503, never 200', async () => {
    const src = await createSource(t);
    const redis = new Redis(t.config.redis.url);
    // Bull's addJob script LPUSHes the job id onto the wait list: a string there fails that
    // one command inside the transaction, which a MULTI reports only in that command's reply.
    const waitKey = `${t.config.redis.prefix}:events:wait`;
    await redis.del(waitKey);
    await redis.set(waitKey, 'not-a-list');
    try {
      const refused = await track(t, src.writeKey, 'refused');
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.body.message).toMatch(/refused 1 of 1 job/);
      const metrics = (await t.http.get('/metrics')).text;
      expect(metrics).toMatch(/sluice_enqueue_failures_total [1-9]/);
    } finally {
      await redis.del(waitKey);
      redis.disconnect();
    }
    expect((await track(t, src.writeKey, 'accepted')).status).toBe(200);
    await waitForDrain(t.config.redis.prefix);
    expect(await countEvents(src.id)).toBe(1);
  });
});

describe('durability mode: what Redis offers is read at start and reported', () => {
  it('fsync: Redis with appendfsync always is reported as such; the shared (no AOF) Redis as degraded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-aof-'));
    const redis = new PrivateRedis(await freePort(), ['--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir]);
    await redis.start();
    const durable = await startApp({ REDIS_URL: redis.url, REDIS_DURABILITY: 'fsync' });
    const weak = await startApp({ REDIS_DURABILITY: 'fsync' });
    try {
      const state = async (t: TestApp) => (await waitFor(async () => (await t.http.get('/health/ready')).body.details?.redisDurability, (d) => d?.effective !== 'unknown', 5000));
      expect(await state(durable)).toMatchObject({ configured: 'fsync', effective: 'fsync', degraded: false });
      expect(await state(weak)).toMatchObject({ configured: 'fsync', effective: 'none', degraded: true });
      expect((await weak.http.get('/metrics')).text).toMatch(/sluice_redis_durability\{configured="fsync",effective="none",degraded="1"\} 1/);
      const src = await createSource(durable);
      expect((await track(durable, src.writeKey, 'fsynced')).status).toBe(200);
    } finally {
      await durable.close();
      await weak.close();
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('replicas: 200 only once REDIS_WAIT_REPLICAS replicas have the write, 503 otherwise', async () => {
    const primary = new PrivateRedis(await freePort());
    await primary.start();
    const t = await startApp({ REDIS_URL: primary.url, REDIS_DURABILITY: 'replicas', REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '200' });
    const replica = new PrivateRedis(await freePort(), ['--save', '', '--appendonly', 'no', '--replicaof', '127.0.0.1', String(primary.port)]);
    try {
      const src = await createSource(t);
      const alone = await track(t, src.writeKey, 'no-replica');
      expect(alone.status).toBe(503);
      expect(alone.body.message).toMatch(/0 of 1 Redis replica/);
      await replica.start();
      const ok = await waitFor(() => track(t, src.writeKey, 'replicated'), (r) => r.status === 200, 15_000, 200);
      expect(ok.status).toBe(200);
      await t.app.get(RedisDurabilityService).check(); // (it also re-checks every minute)
      const d = (await t.http.get('/health/ready')).body.details?.redisDurability;
      expect(d).toMatchObject({ configured: 'replicas', effective: 'replicas', degraded: false });
    } finally {
      await t.close();
      await replica.stop();
      await primary.stop();
    }
  });
});
