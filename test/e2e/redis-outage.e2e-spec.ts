import { countEvents, createSource, startApp, TestApp, waitFor } from '../support/app';
import { freePort, PrivateRedis } from '../support/redis-server';

const track = (t: TestApp, key: string, messageId: string) =>
  t.http.post('/v1/track').set('X-Write-Key', key).send({ userId: 'u', event: 'outage', messageId });

describe('Redis outage', () => {
  let redis: PrivateRedis;
  let t: TestApp;
  let source: { id: string; writeKey: string };

  beforeAll(async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
    t = await startApp({ REDIS_URL: redis.url, ENQUEUE_TIMEOUT_MS: '500' });
    source = await createSource(t);
  });
  afterAll(async () => {
    await redis.start();
    await t.close();
    await redis.stop();
  });

  it('answers 503 with Retry-After, not a hang, while Redis is down, then recovers without losing acknowledged events', async () => {
    expect((await track(t, source.writeKey, 'before')).status).toBe(200);

    await redis.stop();
    const down = await track(t, source.writeKey, 'during');
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toBe('1');
    expect(down.body.message).toMatch(/queue|redis/i);
    const batch = await t.http.post('/v1/batch').set('X-Write-Key', source.writeKey).send({ batch: [{ type: 'track', userId: 'u', event: 'x' }] });
    expect(batch.status).toBe(503);
    expect((await t.http.get('/health/ready')).status).toBe(503);
    expect((await t.http.get('/health/live')).status).toBe(200);

    await redis.start();
    const back = await waitFor(() => track(t, source.writeKey, 'after'), (r) => r.status === 200, 15_000, 200);
    expect(back.status).toBe(200);
    // The Redis restart lost 'before' if it was still queued (this private Redis keeps nothing
    // on disk); what matters here is that 'after' is stored and nothing crashed.
    expect(await waitFor(() => countEvents(source.id), (n) => n >= 1, 15_000)).toBeGreaterThanOrEqual(1);
    expect((await t.http.get('/health/ready')).status).toBe(200);
  });
});

describe('Redis unreachable from the start', () => {
  it('still serves health (not ready) and answers ingestion with 503', async () => {
    const port = await freePort();
    const t = await startApp({ REDIS_URL: `redis://127.0.0.1:${port}`, ROLE: 'api', ENQUEUE_TIMEOUT_MS: '300' });
    try {
      const ready = await t.http.get('/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.details.redis.status).toBe('down');
      const src = await createSource(t);
      const res = await track(t, src.writeKey, 'x');
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
    } finally {
      await t.close();
    }
  });
});
