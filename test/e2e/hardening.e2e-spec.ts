import { getQueueToken } from '@nestjs/bull';
import Bull, { Queue } from 'bull';
import Redis from 'ioredis';
import { gzipSync } from 'node:zlib';
import { MaintenanceService } from '../../src/processing/maintenance.service';
import { PersistEventsProcessor } from '../../src/processing/persist-events.processor';
import { JobName, packJob, PersistEventsJob, QueuedEvent, QueueName } from '../../src/queue/queue.constants';
import { countEvents, createSource, startApp, TestApp, waitFor, withDb } from '../support/app';
import { waitForDrain } from '../support/drain';
import { REDIS_URL } from '../support/env';
import { freePort } from '../support/redis-server';

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();

async function letters(sourceId: string) {
  return withDb(async (db) => (await db.query('SELECT * FROM dead_letters WHERE source_id = $1 ORDER BY id', [sourceId])).rows);
}
async function messageIds(sourceId: string): Promise<string[]> {
  return withDb(async (db) => (await db.query('SELECT message_id FROM events WHERE source_id = $1 ORDER BY message_id', [sourceId])).rows.map((r: { message_id: string }) => r.message_id));
}

describe('hardening: 200 means stored, bad input gets a 4xx', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ MAX_BATCH_EVENTS: '1000' });
  });
  afterAll(() => t.close());

  const post = (path: string, body: unknown, key: string) => t.http.post(path).set('Authorization', basic(key)).send(body as object);
  // superagent would re-encode a JS string; raw JSON text keeps escapes such as \ud800 as sent.
  const postRaw = (path: string, json: string, key: string, type = 'application/json') =>
    t.http.post(path).set('Authorization', basic(key)).set('Content-Type', type).send(json);

  describe('content PostgreSQL cannot store is refused per event, with a reason naming the field', () => {
    const cases: [string, string, string][] = [
      ['a lone surrogate in a value', '{"type":"track","userId":"u","event":"e","properties":{"name":"x\\ud800"}}', 'properties.name'],
      ['a lone surrogate in a key', '{"type":"track","userId":"u","event":"e","properties":{"\\udc00k":1}}', 'a key in properties'],
      ['NUL in a jsonb value', '{"type":"track","userId":"u","event":"e","context":{"page":{"title":"a\\u0000b"}}}', 'context.page.title'],
      ['NUL in a jsonb key', '{"type":"track","userId":"u","event":"e","traits":{"\\u0000":1}}', 'a key in traits'],
      ['NUL in a text column', '{"type":"track","userId":"u\\u0000","event":"e"}', 'userId'],
      ['a number too large', '{"type":"track","userId":"u","event":"e","properties":{"n":1e400}}', 'properties.n'],
    ];

    it.each(cases)('%s', async (_name, json, where) => {
      const src = await createSource(t);
      const res = await postRaw('/v1/batch', `{"batch":[{"type":"track","userId":"u","event":"ok","messageId":"good"},${json.replace('{"type"', '{"messageId":"bad","type"')}]}`, src.writeKey);
      expect(res.status).toBe(200);
      expect(res.body.accepted).toBe(1);
      expect(res.body.rejected).toEqual([{ index: 1, reason: expect.stringMatching(/^invalid_(text|number)$/), message: expect.stringContaining(where) }]);
      const single = await postRaw('/v1/track', json, src.writeKey);
      expect(single.status).toBe(400);
      expect(single.body.message).toContain(where);
      await waitForDrain(t.config.redis.prefix);
      expect(await messageIds(src.id)).toEqual(['good']);
      expect(await letters(src.id)).toEqual([]);
    });

    it.each([
      ['year 0', '0000-01-01T00:00:00Z'],
      ['year 275760', '+275760-09-13T00:00:00.000Z'],
      ['a negative year', '-000001-01-01T00:00:00Z'],
      ['year 10000', '10000-01-01T00:00:00Z'],
    ])('a timestamp PostgreSQL cannot hold (%s) is a 400 naming the field', async (_n, ts) => {
      const src = await createSource(t);
      const res = await post('/v1/track', { userId: 'u', event: 'e', timestamp: ts }, src.writeKey);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ reason: 'invalid_field', message: expect.stringMatching(/^timestamp must be an ISO 8601/) });
    });
  });

  describe('the worker stores or dead-letters whatever reaches it, content notwithstanding', () => {
    it('dead-letters events PostgreSQL refuses with their exact payload, stores the others, and never writes a letter twice', async () => {
      const src = await createSource(t);
      const now = new Date().toISOString();
      // Straight into the worker, as a job from an older api (or a bug) could bring them.
      const hostile: QueuedEvent[] = [
        { s: src.id, t: now, e: { type: 'track', messageId: 'ok-1', userId: 'u', event: 'fine' } },
        { s: src.id, t: now, r: 'req-x', e: { type: 'track', messageId: 'lone', userId: 'u', event: 'e', properties: { v: 'x\ud800', ['k\udc00']: 1 } } },
        { s: src.id, t: now, e: { type: 'track', messageId: 'nul', userId: 'u', event: 'e', properties: { ['\u0000']: 'a\u0000b' } } },
        { s: src.id, t: now, e: { type: 'track', messageId: 'nul-text', userId: 'u\u0000', event: 'e' } },
        { s: src.id, t: now, e: { type: 'track', messageId: 'ok-2', userId: 'u', event: 'fine' } },
      ];
      const processor = t.app.get(PersistEventsProcessor);
      const outcome = await processor.persist(hostile, 'job-x', 1);
      expect(outcome).toEqual({ inserted: 2, deduplicated: 0, deadLettered: 3 });
      expect(await messageIds(src.id)).toEqual(['ok-1', 'ok-2']);
      const rows = await letters(src.id);
      expect(rows.map((r) => [r.message_id, r.reason_code])).toEqual([
        ['lone', 'rejected_by_postgres'],
        ['nul', 'rejected_by_postgres'],
        ['nul-text', 'rejected_by_postgres'],
      ]);
      // payload_text is the event exactly as queued: JSON.parse gives back the very strings.
      for (const r of rows) expect(JSON.parse(r.payload_text)).toEqual(JSON.parse(JSON.stringify(hostile.find((h) => h.e.messageId === r.message_id))));
      expect(JSON.parse(rows[0].payload_text).e.properties.v).toBe('x\ud800');
      expect(rows[0].payload.e.properties.v).toBe('x\ufffd'); // the jsonb copy, sanitised
      // Again (a retried job, a sweep after a crash): nothing written twice.
      await processor.persist(hostile, 'job-x', 2);
      expect(await letters(src.id)).toHaveLength(3);
      expect(await messageIds(src.id)).toEqual(['ok-1', 'ok-2']);
    });

    it('sweeps failed jobs one by one: dead letters once, interrupted jobs queued again, poison split', async () => {
      const src = await createSource(t);
      const queue = t.app.get<Queue<PersistEventsJob>>(getQueueToken(QueueName.Events));
      const now = new Date().toISOString();
      const ev = (id: string, props: Record<string, unknown> = {}) => ({ req: { s: src.id, t: now }, e: { type: 'track', messageId: id, userId: 'u', event: 'e', properties: props } });
      // Failed jobs as Bull leaves them, made by a second client while this process's worker is
      // paused: taken (active, locked) and failed with a reason.
      const other = new Bull<PersistEventsJob>(QueueName.Events, REDIS_URL, { prefix: t.config.redis.prefix });
      const fail = async (data: PersistEventsJob, reason: string) => {
        await other.add(JobName.PersistEvents, data, { attempts: 1 });
        const job = (await other.getNextJob())!;
        await job.moveToFailed({ message: reason }, true);
        await job.releaseLock();
      };
      await queue.pause(true);
      try {
        await fail(packJob([ev('dl-1', { s: 'x\ud800' }), ev('dl-2')]), 'failed after 8 attempts: something');
        await fail(packJob([ev('int-1'), ev('int-2')]), 'interrupted: job 9: shut down while PostgreSQL was unavailable');
        await fail(packJob([ev('st-1'), ev('st-2'), ev('st-3'), ev('st-4')]), 'job stalled more than allowable limit');
        await fail(packJob([ev('st-alone')]), 'job stalled more than allowable limit');
      } finally {
        await other.close();
        await queue.resume(true);
      }
      const maintenance = t.app.get(MaintenanceService);
      // (The worker's own 30-s sweep may take some of them first: the end state is what counts.)
      await waitFor(async () => (await maintenance.sweepFailedJobs(), await queue.getFailedCount()), (n) => n === 0, 10_000);
      expect(await queue.getFailedCount()).toBe(0);
      expect(await maintenance.sweepFailedJobs()).toBe(0);
      await waitForDrain(t.config.redis.prefix);
      expect(await messageIds(src.id)).toEqual(['int-1', 'int-2', 'st-1', 'st-2', 'st-3', 'st-4']);
      const rows = await letters(src.id);
      expect(rows.map((r) => [r.message_id, r.reason_code]).sort()).toEqual([
        ['dl-1', 'retries_exhausted'],
        ['dl-2', 'retries_exhausted'],
        ['st-alone', 'worker_crash'],
      ]);
    });
  });

  describe('no request multiplies itself', () => {
    it('refuses nesting deeper than MAX_EVENT_DEPTH per event (20,000 levels: 400, never 500)', async () => {
      const src = await createSource(t);
      const deep = '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000);
      const single = await postRaw('/v1/track', `{"userId":"u","event":"deep","properties":${deep}}`, src.writeKey);
      expect(single.status).toBe(400);
      expect(single.body.reason).toBe('event_too_deep');
      const batch = await postRaw('/v1/batch', `{"batch":[{"type":"track","userId":"u","event":"ok"},{"type":"track","userId":"u","event":"deep","properties":${deep}}]}`, src.writeKey);
      expect(batch.status).toBe(200);
      expect(batch.body).toMatchObject({ accepted: 1, rejected: [{ index: 1, reason: 'event_too_deep' }] });
      expect((await t.http.get('/health/live')).status).toBe(200);
    });

    it('caps the events of a batch (400 batch_too_long)', async () => {
      const src = await createSource(t);
      const res = await post('/v1/batch', { batch: Array.from({ length: 1001 }, () => ({ type: 'track', userId: 'u', event: 'e' })) }, src.writeKey);
      expect(res.status).toBe(400);
      expect(res.body.reason).toBe('batch_too_long');
    });

    it('checks each event as stored, with the batch context merged in', async () => {
      const src = await createSource(t);
      const res = await post('/v1/batch', { context: { big: 'x'.repeat(20_000) }, batch: [{ type: 'track', userId: 'u', event: 'small' }, { type: 'track', userId: 'u', event: 'large', properties: { p: 'y'.repeat(14_000) } }] }, src.writeKey);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ accepted: 1, rejected: [{ index: 1, reason: 'event_too_large', message: expect.stringContaining('batch context merged in') }] });
    });

    it('the worst-case batch (370 KB context, 1,000 tiny events) is refused at once and costs Redis nothing', async () => {
      const src = await createSource(t);
      const redis = new Redis(REDIS_URL);
      const body = JSON.stringify({ context: { pad: 'c'.repeat(370_000) }, batch: Array.from({ length: 1000 }, (_, i) => ({ type: 'track', userId: 'u', event: 'e', messageId: `w${i}` })) });
      const before = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
      const res = await postRaw('/v1/batch', body, src.writeKey);
      const after = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
      redis.disconnect();
      expect(res.status).toBe(413);
      expect(res.body.reason).toBe('batch_context_fanout');
      expect(after - before).toBeLessThan(body.length); // nothing of it queued
    });

    it('a full-size batch costs Redis about its size as stored: the envelope once per event, within MAX_BATCH_CONTEXT_FANOUT_BYTES', async () => {
      const src = await createSource(t);
      const redis = new Redis(REDIS_URL);
      // 480 KB: a 1 KB envelope context and 1,000 small events (the fan-out limit allows it).
      const body = JSON.stringify({
        context: { library: { name: 'x', version: '1' }, pad: 'c'.repeat(1000) },
        batch: Array.from({ length: 1000 }, (_, i) => ({ type: 'track', userId: `user-${i}`, event: 'Item Viewed', messageId: `m-${i}`, properties: { sku: `sku-${i}`, pad: 'p'.repeat(330) } })),
      });
      const queue = t.app.get<Queue<PersistEventsJob>>(getQueueToken(QueueName.Events));
      await queue.pause(true); // this process's worker leaves the jobs in Redis to be measured
      try {
        const before = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
        const res = await postRaw('/v1/batch', body, src.writeKey);
        expect(res.status).toBe(200);
        const after = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
        // Jobs carry the rows as stored, the envelope merged into each (bounded per request by
        // the fan-out limit, 2 MB by default): about the body plus 1,000 copies of the envelope,
        // plus Bull's JSON escaping of every quote in the rows (this test's events are mostly quotes).
        const envelope = JSON.stringify({ library: { name: 'x', version: '1' }, pad: 'c'.repeat(1000) }).length;
        const stored = body.length + 1000 * envelope;
        const multiple = (after - before) / stored;
        console.log(`Redis cost of a ${body.length}-byte batch (${stored} bytes as stored): ${after - before} bytes (${multiple.toFixed(2)}x)`);
        expect(multiple).toBeLessThan(2.5);
      } finally {
        await queue.resume(true);
        redis.disconnect();
      }
      await waitForDrain(t.config.redis.prefix);
      expect(await countEvents(src.id)).toBe(1000);
      const [row] = await withDb(async (db) => (await db.query("SELECT context FROM events WHERE source_id = $1 AND message_id = 'm-7'", [src.id])).rows);
      expect(row.context).toMatchObject({ library: { name: 'x' }, pad: 'c'.repeat(1000) });
    });
  });

  describe('every SDK body is JSON, whatever its content type', () => {
    it.each([
      ['application/x-www-form-urlencoded, gzip (rudder-sdk-node)', 'application/x-www-form-urlencoded', true],
      ['application/octet-stream', 'application/octet-stream', false],
      ['text/plain (analytics.js)', 'text/plain', false],
      ['application/json; charset=utf-8', 'application/json; charset=utf-8', false],
    ])('%s', async (_n, type, gzip) => {
      const src = await createSource(t);
      const json = JSON.stringify({ batch: [{ type: 'track', userId: 'u', event: 'ct', messageId: `ct-${type}` }] });
      const headers: Record<string, string> = { Authorization: basic(src.writeKey), 'Content-Type': type, ...(gzip ? { 'Content-Encoding': 'gzip' } : {}) };
      const res = await fetch(`${await listening()}/v1/batch`, { method: 'POST', headers, body: gzip ? gzipSync(json) : json });
      expect({ status: res.status, body: await res.json() }).toMatchObject({ status: 200, body: { accepted: 1 } });
    });

    it('no content type at all', async () => {
      const src = await createSource(t);
      const res = await fetch(`${await listening()}/v1/track`, { method: 'POST', headers: { Authorization: basic(src.writeKey) }, body: Buffer.from('{"userId":"u","event":"none"}') });
      expect(res.status).toBe(200);
    });

    it('admin routes still want JSON (415 for other types)', async () => {
      const res = await t.http.post('/v1/admin/sources').set('Authorization', `Bearer ${t.adminKey}`).set('Content-Type', 'text/plain').send('{"name":"x"}');
      expect(res.status).toBe(415);
      expect(res.body.message).toMatch(/Content-Type/);
    });

    async function listening(): Promise<string> {
      const addr = t.app.getHttpServer().address();
      if (addr && typeof addr === 'object') return `http://127.0.0.1:${addr.port}`;
      await t.app.listen(0, '127.0.0.1');
      return listening();
    }
  });

  describe('quotas count accepted events only', () => {
    it('a refused request gives its events back to the daily quota', async () => {
      const src = await createSource(t);
      await t.http.patch(`/v1/admin/sources/${src.id}`).set('Authorization', `Bearer ${t.adminKey}`).send({ dailyEventQuota: 10 });
      // 5 invalid events (400) and a batch with 3 rejected of 5: 8 refused events, 2 accepted.
      expect((await post('/v1/batch', { batch: Array.from({ length: 5 }, () => ({ type: 'track' })) }, src.writeKey)).status).toBe(400);
      const mixed = await post('/v1/batch', { batch: [...Array.from({ length: 3 }, () => ({ type: 'nope' })), { type: 'track', userId: 'u', event: 'a' }, { type: 'track', userId: 'u', event: 'b' }] }, src.writeKey);
      expect(mixed.body.accepted).toBe(2);
      // The quota still has 8 left: a batch of 8 fits, the next event does not.
      await new Promise((r) => setTimeout(r, 50)); // the refund is sent after the answer
      expect((await post('/v1/batch', { batch: Array.from({ length: 8 }, (_, i) => ({ type: 'track', userId: 'u', event: `q${i}` })) }, src.writeKey)).status).toBe(200);
      const over = await post('/v1/track', { userId: 'u', event: 'over' }, src.writeKey);
      expect(over.status).toBe(429);
      expect(over.body.limit).toBe('daily_quota');
    });
  });

  describe('partitions', () => {
    it('an imported event gets its own day partition; the default partition stays empty; past retention is refused', async () => {
      const src = await createSource(t);
      const old = daysAgo(123);
      expect((await post('/v1/track', { userId: 'u', event: 'imported', messageId: 'old-1', timestamp: old }, src.writeKey)).status).toBe(200);
      await waitForDrain(t.config.redis.prefix);
      const where = await withDb(async (db) => (await db.query("SELECT tableoid::regclass::text AS part FROM events WHERE source_id = $1 AND message_id = 'old-1'", [src.id])).rows);
      expect(where).toEqual([{ part: `events_${old.slice(0, 10).replace(/-/g, '')}` }]);
      expect(await withDb(async (db) => Number((await db.query('SELECT count(*) AS n FROM events_default')).rows[0].n))).toBe(0);
      const past = await post('/v1/track', { userId: 'u', event: 'ancient', timestamp: daysAgo(731) }, src.writeKey);
      expect(past.status).toBe(400);
      expect(past.body.reason).toBe('timestamp_past_retention');
    });
  });

  describe('CORS', () => {
    it('is open on ingestion routes only, not on the query API', async () => {
      const pre = (path: string) => t.http.options(path).set('Origin', 'https://shop.example.com').set('Access-Control-Request-Method', 'POST');
      expect((await pre('/v1/track')).headers['access-control-allow-origin']).toBe('https://shop.example.com');
      expect((await pre('/v1/sources/00000000-0000-4000-8000-000000000000/events')).headers['access-control-allow-origin']).toBeUndefined();
      expect((await pre('/v1/admin/sources')).headers['access-control-allow-origin']).toBeUndefined();
    });
  });
});

describe('hardening: unauthenticated load never reaches the database', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ KEY_LOOKUPS_PER_IP: '5', KEY_LOOKUPS_PER_SECOND: '1000' });
  });
  afterAll(() => t.close());

  it('random well-formed keys: a few lookups per client IP, then 429; known keys unaffected; unknown ids cached', async () => {
    const src = await createSource(t);
    const random = () => `sk_write_${Math.random().toString(36).slice(2, 10).padEnd(8, 'x')}_${'A'.repeat(32)}`.replace(/[^A-Za-z0-9_]/g, 'x');
    // The source's key, verified once before the flood, stays in this process's cache.
    expect((await t.http.post('/v1/track').set('Authorization', basic(src.writeKey)).send({ userId: 'u', event: 'e' })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100)); // let the bucket refill
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await t.http.post('/v1/track').set('Authorization', basic(random())).send({ userId: 'u', event: 'e' })).status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(11); // the burst (2 x 5) and a refill
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(25);
    // A key this process has verified is served from its cache, flood or not.
    expect((await t.http.post('/v1/track').set('Authorization', basic(src.writeKey)).send({ userId: 'u', event: 'e' })).status).toBe(200);
    const metrics = (await t.http.get('/metrics')).text;
    expect(metrics).toMatch(/sluice_key_lookups_refused_total\{scope="ip"\} [1-9]/);
  });
});

describe('hardening: /metrics on its own port', () => {
  it('METRICS_PORT moves /metrics off the public listener', async () => {
    const port = await freePort();
    const t = await startApp({ METRICS_PORT: String(port), HOST: '127.0.0.1' });
    try {
      expect((await t.http.get('/metrics')).status).toBe(404);
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('sluice_events_received_total');
      expect((await fetch(`http://127.0.0.1:${port}/v1/track`)).status).toBe(404);
    } finally {
      await t.close();
    }
    await waitFor(() => fetch(`http://127.0.0.1:${port}/metrics`).then(() => 'open', () => 'closed'), (s) => s === 'closed', 5000);
  });
});
