import { gzipSync } from 'node:zlib';
import { waitForDrain } from '../support/drain';
import { countEvents, createSource, startApp, TestApp, waitFor, withDb } from '../support/app';

// superagent would JSON-encode a Buffer sent with a JSON content type; send the bytes as they are.
const raw = (body: unknown) => body as string;
const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

async function rowsFor(sourceId: string) {
  return withDb(async (db) => (await db.query('SELECT * FROM events WHERE source_id = $1 ORDER BY received_at, message_id', [sourceId])).rows);
}

describe('ingestion API (in-process, real PostgreSQL and Redis)', () => {
  let t: TestApp;
  let source: { id: string; writeKey: string };

  beforeAll(async () => {
    t = await startApp();
    source = await createSource(t);
  });
  afterAll(() => t.close());

  const post = (path: string, body: unknown, key = source.writeKey) =>
    t.http.post(path).set('Authorization', basic(key)).send(body as object);

  describe('routes', () => {
    const calls: [string, Record<string, unknown>][] = [
      ['/v1/track', { event: 'Order Completed', properties: { revenue: 9.5 } }],
      ['/v1/identify', { traits: { email: 'ada@example.com' } }],
      ['/v1/page', { name: 'Pricing', properties: { url: 'https://x.test/p' } }],
      ['/v1/screen', { name: 'Home' }],
      ['/v1/group', { groupId: 'acme', traits: { size: 3 } }],
      ['/v1/alias', { previousId: 'anon-1' }],
      ['/v1/t', { event: 'Short Path' }],
      ['/v1/i', {}],
      ['/v1/p', {}],
      ['/v1/s', {}],
      ['/v1/g', { groupId: 'g2' }],
      ['/v1/a', { previousId: 'p2' }],
    ];

    it.each(calls)('%s stores the event with its type', async (path, body) => {
      const src = await createSource(t);
      const messageId = `m-${path}`;
      const res = await post(path, { userId: 'u1', messageId, ...body }, src.writeKey);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ success: true, accepted: 1, rejected: [], suppressed: 0, dropped: 0 });
      const rows = await waitFor(() => rowsFor(src.id), (r) => r.length === 1);
      expect(rows).toHaveLength(1);
      const expectedType = { t: 'track', i: 'identify', p: 'page', s: 'screen', g: 'group', a: 'alias' }[path.slice(4)] ?? path.slice(4);
      expect(rows[0]).toMatchObject({ type: expectedType, message_id: messageId, user_id: 'u1' });
    });

    it.each(['/v1/batch', '/v1/b', '/v1/import'])('%s stores every valid event', async (path) => {
      const src = await createSource(t);
      const res = await post(path, {
        batch: [
          { type: 'track', userId: 'u', event: 'A', messageId: 'b1' },
          { type: 'identify', anonymousId: 'anon', traits: { x: 1 }, messageId: 'b2' },
        ],
      }, src.writeKey);
      expect(res.status).toBe(200);
      expect(res.body.accepted).toBe(2);
      expect(await waitFor(() => countEvents(src.id), (n) => n === 2)).toBe(2);
    });
  });

  describe('authentication', () => {
    it('accepts the key as Basic user, X-Write-Key header, or body writeKey (never stored)', async () => {
      const src = await createSource(t);
      expect((await t.http.post('/v1/track').set('Authorization', basic(src.writeKey)).send({ userId: 'a', event: 'e', messageId: 'k1' })).status).toBe(200);
      expect((await t.http.post('/v1/track').set('X-Write-Key', src.writeKey).send({ userId: 'a', event: 'e', messageId: 'k2' })).status).toBe(200);
      expect((await t.http.post('/v1/track').send({ userId: 'a', event: 'e', messageId: 'k3', writeKey: src.writeKey })).status).toBe(200);
      const rows = await waitFor(() => rowsFor(src.id), (r) => r.length === 3);
      expect(rows.map((r) => r.message_id).sort()).toEqual(['k1', 'k2', 'k3']);
      expect(JSON.stringify(rows)).not.toContain(src.writeKey);
    });

    it('401 with an actionable JSON message for a missing or unknown key', async () => {
      const missing = await t.http.post('/v1/track').send({ userId: 'a', event: 'e' });
      expect(missing.status).toBe(401);
      expect(missing.body.message).toMatch(/write key/i);
      const unknown = await post('/v1/track', { userId: 'a', event: 'e' }, 'sk_write_AAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB');
      expect(unknown.status).toBe(401);
      const garbage = await post('/v1/track', { userId: 'a', event: 'e' }, 'not-a-key');
      expect(garbage.status).toBe(401);
      expect(JSON.stringify(garbage.body)).not.toContain('not-a-key');
    });

    it('accepts JSON sent as text/plain (sendBeacon, analytics.js)', async () => {
      const res = await t.http.post('/v1/t').set('Content-Type', 'text/plain').send(JSON.stringify({ userId: 'a', event: 'beacon', writeKey: source.writeKey }));
      expect(res.status).toBe(200);
    });
  });

  describe('rejections', () => {
    it.each([
      ['/v1/track', { event: 'x' }, 'missing_identity'],
      ['/v1/track', { userId: 'u' }, 'missing_event'],
      ['/v1/group', { userId: 'u' }, 'missing_group_id'],
      ['/v1/alias', { userId: 'u' }, 'missing_previous_id'],
      ['/v1/track', { userId: 'u', event: 'x', timestamp: 'yesterday' }, 'invalid_field'],
      ['/v1/track', { userId: 'u', event: 'x', properties: 'nope' }, 'invalid_field'],
      ['/v1/track', { userId: { nested: true }, event: 'x' }, 'invalid_field'],
    ])('%s %j -> 400 %s', async (path, body, reason) => {
      const res = await post(path, body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ success: false, statusCode: 400, reason });
      expect(typeof res.body.message).toBe('string');
    });

    it('400 for a non-object body, invalid JSON, and a batch without events', async () => {
      expect((await post('/v1/track', [1, 2])).body.reason).toBe('not_an_object');
      const bad = await t.http.post('/v1/track').set('Authorization', basic(source.writeKey)).set('Content-Type', 'application/json').send('{"userId":');
      expect(bad.status).toBe(400);
      expect(bad.body.reason).toBe('invalid_body');
      expect((await post('/v1/batch', { batch: 'x' })).status).toBe(400);
      expect((await post('/v1/batch', { batch: [] })).body.reason).toBe('empty_batch');
    });

    it('rejects invalid events of a batch one by one and accepts the rest', async () => {
      const src = await createSource(t);
      const big = 'x'.repeat(40_000);
      const res = await post('/v1/batch', {
        batch: [
          { type: 'track', userId: 'u', event: 'ok-1', messageId: 'ok-1' },
          { type: 'track', userId: 'u' },
          { type: 'bogus', userId: 'u' },
          'not an object',
          { type: 'track', userId: 'u', event: 'big', properties: { big } },
          { type: 'identify', userId: 'u', messageId: 'ok-2' },
        ],
      }, src.writeKey);
      expect(res.status).toBe(200);
      expect(res.body.accepted).toBe(2);
      expect(res.body.rejected.map((r: { index: number; reason: string }) => [r.index, r.reason])).toEqual([
        [1, 'missing_event'],
        [2, 'invalid_type'],
        [3, 'not_an_object'],
        [4, 'event_too_large'],
      ]);
      const rows = await waitFor(() => rowsFor(src.id), (r) => r.length === 2);
      expect(rows.map((r) => r.message_id).sort()).toEqual(['ok-1', 'ok-2']);
    });

    it('400 listing every reason when no event of a batch is valid', async () => {
      const res = await post('/v1/batch', { batch: [{ type: 'track' }, { type: 'x' }] });
      expect(res.status).toBe(400);
      expect(res.body.rejected).toHaveLength(2);
    });

    it('413 for a body over the size cap, plain or gzip-decompressed (zip bomb)', async () => {
      const huge = { userId: 'u', event: 'x', properties: { blob: 'y'.repeat(600_000) } };
      const plain = await post('/v1/track', huge);
      expect(plain.status).toBe(413);
      expect(plain.body.reason).toBe('request_too_large');
      const bomb = gzipSync(Buffer.alloc(20_000_000, 0x20));
      const zipped = await t.http.post('/v1/track').set('Authorization', basic(source.writeKey)).set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').serialize(raw).send(bomb);
      expect(zipped.status).toBe(413);
    });

    it('accepts gzip bodies, refuses corrupt gzip (400) and unknown encodings (415)', async () => {
      const src = await createSource(t);
      const body = gzipSync(JSON.stringify({ batch: [{ type: 'track', userId: 'z', event: 'zipped', messageId: 'gz-1' }] }));
      const ok = await t.http.post('/v1/batch').set('Authorization', basic(src.writeKey)).set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').serialize(raw).send(body);
      expect(ok.status).toBe(200);
      expect(await waitFor(() => countEvents(src.id), (n) => n === 1)).toBe(1);
      const corrupt = await t.http.post('/v1/batch').set('Authorization', basic(src.writeKey)).set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').serialize(raw).send(Buffer.from('definitely not gzip'));
      expect(corrupt.status).toBe(400);
      expect(corrupt.body.reason).toBe('bad_encoding');
      const truncated = await t.http.post('/v1/batch').set('Authorization', basic(src.writeKey)).set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').serialize(raw).send(body.subarray(0, body.length - 8));
      expect(truncated.status).toBe(400);
      const br = await t.http.post('/v1/batch').set('Authorization', basic(src.writeKey)).set('Content-Type', 'application/json').set('Content-Encoding', 'br').serialize(raw).send(Buffer.from('x'));
      expect(br.status).toBe(415);
    });

    it('refuses prototype-poisoning bodies with 400', async () => {
      const res = await t.http.post('/v1/track').set('Authorization', basic(source.writeKey)).set('Content-Type', 'application/json').send('{"userId":"u","event":"e","__proto__":{"admin":true}}');
      expect(res.status).toBe(400);
    });
  });

  describe('processing', () => {
    it('stores a repeated (source, messageId) once, within a batch and across requests', async () => {
      const src = await createSource(t);
      const ev = { type: 'track', userId: 'u', event: 'dup', messageId: 'same-id' };
      const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();
      expect((await post('/v1/batch', { batch: [ev, { ...ev, timestamp: daysAgo(300) }] }, src.writeKey)).body).toMatchObject({ accepted: 2 });
      expect((await post('/v1/track', { ...ev, timestamp: daysAgo(40) }, src.writeKey)).status).toBe(200);
      await waitForDrain(t.config.redis.prefix);
      expect(await countEvents(src.id)).toBe(1);
    });

    it('generates a messageId when absent, corrects clock skew and fills context.ip', async () => {
      const src = await createSource(t);
      // The client clock is 1 hour behind: it says it sent the event 10 s after it happened.
      const res = await post('/v1/batch', {
        sentAt: '2020-01-01T01:00:10.000Z',
        context: { library: { name: 'test-lib' } },
        batch: [{ type: 'track', userId: 'u', event: 'skewed', timestamp: '2020-01-01T01:00:00.000Z', properties: { n: 1 }, custom: 'kept' }],
      }, src.writeKey);
      expect(res.status).toBe(200);
      const [row] = await waitFor(() => rowsFor(src.id), (r) => r.length === 1);
      expect(row.message_id).toMatch(/^api-[0-9a-f-]{36}$/);
      const received = row.received_at.getTime();
      expect(received - row.timestamp.getTime()).toBe(10_000);
      expect(row.original_timestamp.toISOString()).toBe('2020-01-01T01:00:00.000Z');
      expect(row.sent_at.toISOString()).toBe('2020-01-01T01:00:10.000Z');
      expect(row.context).toMatchObject({ library: { name: 'test-lib' }, ip: expect.any(String) });
      expect(row.properties).toEqual({ n: 1 });
      expect(row.extra).toEqual({ custom: 'kept' });
    });

    it('refuses an event PostgreSQL could not store on its own, and stores the rest of its batch', async () => {
      const src = await createSource(t);
      const res = await post('/v1/batch', {
        batch: [
          { type: 'track', userId: 'u', event: 'fine-1', messageId: 'fine-1' },
          { type: 'track', userId: 'u', event: 'poison', messageId: 'poison', properties: { s: 'nul\u0000byte' } },
          { type: 'track', userId: 'u', event: 'fine-2', messageId: 'fine-2' },
        ],
      }, src.writeKey);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ accepted: 2, rejected: [{ index: 1, reason: 'invalid_text', message: expect.stringContaining('properties.s') }] });
      await waitForDrain(t.config.redis.prefix);
      expect((await rowsFor(src.id)).map((r) => r.message_id).sort()).toEqual(['fine-1', 'fine-2']);
    });
  });

  describe('HTTP surface', () => {
    it('echoes a safe X-Request-Id and generates one otherwise', async () => {
      const res = await post('/v1/track', { userId: 'u', event: 'e' }).set('X-Request-Id', 'req-123');
      expect(res.headers['x-request-id']).toBe('req-123');
      const hostile = await post('/v1/track', { userId: 'u', event: 'e' }).set('X-Request-Id', 'x'.repeat(500));
      expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('opens CORS on ingestion routes only', async () => {
      const pre = await t.http.options('/v1/track').set('Origin', 'https://shop.example').set('Access-Control-Request-Method', 'POST');
      expect(pre.status).toBeLessThan(300);
      expect(pre.headers['access-control-allow-origin']).toBe('https://shop.example');
      const admin = await t.http.get('/v1/admin/sources').set('Origin', 'https://evil.example');
      expect(admin.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('reports readiness and liveness', async () => {
      expect((await t.http.get('/health/live')).status).toBe(200);
      const ready = await t.http.get('/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.details).toMatchObject({ postgres: { status: 'up' }, redis: { status: 'up' } });
    });

    it('exposes the Sluice metrics', async () => {
      const text = (await t.http.get('/metrics')).text;
      for (const name of [
        'http_request_duration_seconds_bucket',
        'sluice_events_received_total',
        'sluice_events_rejected_total',
        'sluice_events_persisted_total',
        'sluice_events_deduplicated_total',
        'sluice_queue_jobs',
        'sluice_end_to_end_lag_seconds_bucket',
        'process_resident_memory_bytes',
      ]) {
        expect(text).toContain(name);
      }
      expect(text).toMatch(/sluice_events_rejected_total\{reason="missing_identity"\} [1-9]/);
    });

    it('exposes every metric the Grafana dashboard and the alert rules use', async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const assets = require('../../deploy/check/metric-names.js') as { metricNamesUsed(): Set<string> | string[]; missingFrom(text: string): string[] };
      expect([...assets.metricNamesUsed()].length).toBeGreaterThan(10);
      expect(assets.missingFrom((await t.http.get('/metrics')).text)).toEqual([]);
    });

    it('documents every route and both auth schemes in OpenAPI', async () => {
      const doc = (await t.http.get('/docs-json')).body;
      for (const p of ['/v1/track', '/v1/identify', '/v1/page', '/v1/screen', '/v1/group', '/v1/alias', '/v1/batch', '/v1/admin/sources', '/health/ready']) {
        expect(doc.paths).toHaveProperty([p]);
      }
      expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['adminToken', 'apiKey', 'writeKey', 'writeKeyHeader']);
      expect(doc.paths['/v1/track'].post.requestBody.content['application/json'].schema.$ref).toMatch(/TrackDto/);
      expect((await t.http.get('/docs')).status).toBe(200);
    });
  });
});
