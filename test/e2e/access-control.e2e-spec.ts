import { waitForDrain } from '../support/drain';
import { CredentialsService } from '../../src/auth/credentials.service';
import { countEvents, createSource, startApp, TestApp, waitFor, withDb } from '../support/app';

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

describe('access control (in-process)', () => {
  let t: TestApp;
  const bearer = () => `Bearer ${t.adminKey}`;

  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  const setLimits = (id: string, limits: object) => t.http.patch(`/v1/admin/sources/${id}`).set('Authorization', bearer()).send(limits);

  describe('keys', () => {
    it('rotation: old and new keys both work during the overlap, the old one stops after it', async () => {
      const src = await createSource(t);
      const key = (await t.http.post('/v1/admin/keys').set('Authorization', bearer()).send({ kind: 'read', sourceIds: [src.id], name: 'dash' })).body;
      const read = (k: string) => t.http.get(`/v1/sources/${src.id}/events`).set('Authorization', `Bearer ${k}`);
      expect((await read(key.key)).status).toBe(200);

      const rotated = await t.http.post(`/v1/admin/keys/${key.id}/rotate`).set('Authorization', bearer()).send({ overlapSeconds: 3600 });
      expect(rotated.status).toBe(201);
      expect(rotated.body).toMatchObject({ kind: 'read', sourceIds: [src.id], name: 'dash', rotatedFrom: key.id });
      expect(rotated.body.key).not.toBe(key.key);
      expect(Date.parse(rotated.body.previousKeyExpiresAt) - Date.now()).toBeGreaterThan(3500_000);
      expect((await read(key.key)).status).toBe(200);
      expect((await read(rotated.body.key)).status).toBe(200);

      // Rotating the new key with no overlap ends it at once (a rotation never extends a deadline).
      const again = await t.http.post(`/v1/admin/keys/${rotated.body.id}/rotate`).set('Authorization', bearer()).send({ overlapSeconds: 0 });
      expect(again.status).toBe(201);
      expect((await read(rotated.body.key)).status).toBe(401);
      expect((await read(again.body.key)).status).toBe(200);
    });

    it('revocation takes effect at once in this process and the key is listed as revoked', async () => {
      const src = await createSource(t);
      expect((await t.http.post('/v1/track').set('Authorization', basic(src.writeKey)).send({ userId: 'u', event: 'e' })).status).toBe(200);
      const [wk] = (await t.http.get(`/v1/admin/keys?sourceId=${src.id}`).set('Authorization', bearer())).body;
      expect((await t.http.post(`/v1/admin/keys/${wk.id}/revoke`).set('Authorization', bearer())).status).toBe(200);
      expect((await t.http.post('/v1/track').set('Authorization', basic(src.writeKey)).send({ userId: 'u', event: 'e' })).status).toBe(401);
      expect((await t.http.get(`/v1/admin/keys?sourceId=${src.id}`).set('Authorization', bearer())).body).toEqual([]);
      const all = (await t.http.get(`/v1/admin/keys?sourceId=${src.id}&includeRevoked=true`).set('Authorization', bearer())).body;
      expect(all[0].revokedAt).not.toBeNull();
    });

    it('refuses bad key specs with 400', async () => {
      const post = (body: object) => t.http.post('/v1/admin/keys').set('Authorization', bearer()).send(body);
      expect((await post({ kind: 'write' })).status).toBe(400);
      expect((await post({ kind: 'write', sourceId: '00000000-0000-4000-8000-000000000000' })).status).toBe(400);
      expect((await post({ kind: 'read', sourceIds: ['not-a-uuid'] })).status).toBe(400);
      expect((await post({ kind: 'root' })).status).toBe(400);
      expect((await post({ kind: 'admin', sourceIds: [] })).status).toBe(400);
    });

    it('records last use in batches, not per request', async () => {
      const src = await createSource(t);
      await t.http.post('/v1/track').set('Authorization', basic(src.writeKey)).send({ userId: 'u', event: 'e' });
      const lastUsed = () => withDb(async (db) => (await db.query('SELECT last_used_at FROM api_keys WHERE source_id = $1', [src.id])).rows[0].last_used_at);
      expect(await lastUsed()).toBeNull();
      await t.app.get(CredentialsService).flushLastUsed();
      expect(await lastUsed()).toBeInstanceOf(Date);
    });
  });

  describe('audit log', () => {
    it('appends a row for every admin action, with actor, ip, request id and change', async () => {
      const created = await t.http.post('/v1/admin/sources').set('Authorization', bearer()).set('X-Request-Id', 'audit-req-1').send({ name: 'audited' });
      const id = created.body.id;
      await setLimits(id, { name: 'audited-2', rateLimitRps: 7 });
      const key = (await t.http.post('/v1/admin/keys').set('Authorization', bearer()).send({ kind: 'read', sourceIds: [id] })).body;
      await t.http.post(`/v1/admin/keys/${key.id}/rotate`).set('Authorization', bearer()).send({});
      await t.http.post(`/v1/admin/keys/${key.id}/revoke`).set('Authorization', bearer());
      await t.http.delete(`/v1/admin/sources/${id}`).set('Authorization', bearer());

      const forSource = (await t.http.get(`/v1/admin/audit?target=${id}`).set('Authorization', bearer())).body.items;
      expect(forSource.map((r: { action: string }) => r.action)).toEqual(['source.delete', 'source.update', 'source.create']);
      const adminKeyId = t.adminKey.split('_')[2];
      expect(forSource[2]).toMatchObject({ actorType: 'admin_key', actorKeyId: adminKeyId, requestId: 'audit-req-1', ip: expect.any(String), change: { name: 'audited' } });
      expect(forSource[1].change).toEqual({ name: { from: 'audited', to: 'audited-2' }, rateLimitRps: { from: null, to: 7 } });
      const forKey = (await t.http.get(`/v1/admin/audit?target=${key.id}`).set('Authorization', bearer())).body.items;
      expect(forKey.map((r: { action: string }) => r.action)).toEqual(['key.revoke', 'key.rotate', 'key.create']);
      expect(JSON.stringify(forKey)).not.toContain(key.key);
    });

    it('filters by action and actor and pages with a cursor', async () => {
      for (let i = 0; i < 3; i++) await t.http.post('/v1/admin/sources').set('Authorization', bearer()).send({ name: `page-${i}` });
      const adminKeyId = t.adminKey.split('_')[2];
      const first = (await t.http.get(`/v1/admin/audit?action=source.create&actor=${adminKeyId}&limit=2`).set('Authorization', bearer())).body;
      expect(first.items).toHaveLength(2);
      expect(first.nextCursor).toEqual(expect.any(String));
      const second = (await t.http.get(`/v1/admin/audit?action=source.create&actor=${adminKeyId}&limit=2&cursor=${first.nextCursor}`).set('Authorization', bearer())).body;
      expect(second.items.length).toBeGreaterThanOrEqual(1);
      expect(Number(second.items[0].id)).toBeLessThan(Number(first.items[1].id));
      expect([...first.items, ...second.items].every((r: { action: string }) => r.action === 'source.create')).toBe(true);
      expect((await t.http.get('/v1/admin/audit?cursor=abc').set('Authorization', bearer())).status).toBe(400);
      expect((await t.http.get('/v1/admin/audit?from=yesterday').set('Authorization', bearer())).status).toBe(400);
      const future = (await t.http.get(`/v1/admin/audit?from=${new Date(Date.now() + 3600_000).toISOString()}`).set('Authorization', bearer())).body;
      expect(future.items).toEqual([]);
    });

    it('cannot be changed, even with SQL', async () => {
      await withDb(async (db) => {
        await expect(db.query("UPDATE audit_log SET action = 'x'")).rejects.toThrow(/append-only/);
        await expect(db.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
        await expect(db.query('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
      });
    });
  });

  describe('rate limits and quotas', () => {
    const track = (key: string) => t.http.post('/v1/track').set('Authorization', basic(key)).send({ userId: 'u', event: 'limited' });
    const batch = (key: string, n: number) =>
      t.http.post('/v1/batch').set('Authorization', basic(key)).send({ batch: Array.from({ length: n }, (_, i) => ({ type: 'track', userId: 'u', event: `e${i}` })) });

    it('429 with Retry-After and X-RateLimit-* over the requests/s limit; refused events are not stored', async () => {
      const src = await createSource(t);
      expect((await setLimits(src.id, { rateLimitRps: 3 })).status).toBe(200);
      const results = await Promise.all(Array.from({ length: 12 }, () => track(src.writeKey)));
      const ok = results.filter((r) => r.status === 200).length;
      const limited = results.filter((r) => r.status === 429);
      expect(limited.length).toBeGreaterThan(0);
      expect(ok).toBeGreaterThan(0);
      const r = limited[0];
      expect(r.headers['retry-after']).toMatch(/^\d+$/);
      expect(r.headers['x-ratelimit-limit']).toBe('3');
      expect(r.headers['x-ratelimit-remaining']).toMatch(/^\d+$/);
      expect(r.headers['x-ratelimit-reset']).toMatch(/^\d+$/);
      expect(r.body).toMatchObject({ statusCode: 429, reason: 'rate_limited', limit: 'requests' });
      await waitForDrain(t.config.redis.prefix);
      expect(await countEvents(src.id)).toBe(ok);
      expect((await t.http.get('/metrics')).text).toMatch(new RegExp(`sluice_throttled_requests_total\\{source="${src.id}"\\} [1-9]`));
    });

    it('counts a batch as its events against the events/s limit', async () => {
      const src = await createSource(t);
      await setLimits(src.id, { rateLimitEps: 250 });
      const big = await batch(src.writeKey, 300);
      expect(big.status).toBe(429);
      expect(big.body.message).toMatch(/300 events.*split/);
      expect((await batch(src.writeKey, 100)).status).toBe(200);
    });

    it('enforces a daily quota exactly and says when it resets', async () => {
      const src = await createSource(t);
      await setLimits(src.id, { dailyEventQuota: 5 });
      expect((await batch(src.writeKey, 3)).status).toBe(200);
      const over = await batch(src.writeKey, 3);
      expect(over.status).toBe(429);
      expect(over.body.limit).toBe('daily_quota');
      expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(over.headers['retry-after'])).toBeLessThanOrEqual(86_400);
      expect((await batch(src.writeKey, 2)).status).toBe(200);
      expect((await batch(src.writeKey, 1)).status).toBe(429);
      await waitFor(() => countEvents(src.id), (n) => n === 5);
      expect(await countEvents(src.id)).toBe(5);
      // Back to the global default (unlimited here).
      await setLimits(src.id, { dailyEventQuota: null });
      expect((await batch(src.writeKey, 1)).status).toBe(200);
    });

    it('validates limit settings', async () => {
      const src = await createSource(t);
      expect((await setLimits(src.id, { rateLimitRps: -1 })).status).toBe(400);
      expect((await setLimits(src.id, { rateLimitEps: 'many' })).status).toBe(400);
      expect((await setLimits(src.id, { unknown: 1 })).status).toBe(400);
      expect((await t.http.patch('/v1/admin/sources/not-a-uuid').set('Authorization', bearer()).send({})).status).toBe(400);
      expect((await t.http.patch('/v1/admin/sources/00000000-0000-4000-8000-000000000000').set('Authorization', bearer()).send({})).status).toBe(404);
    });
  });

  describe('query API', () => {
    it('pages through a source\'s events with a read key', async () => {
      const src = await createSource(t);
      await t.http.post('/v1/batch').set('Authorization', basic(src.writeKey)).send({
        batch: Array.from({ length: 5 }, (_, i) => ({ type: 'track', userId: 'u', event: 'q', messageId: `q-${i}`, timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() })),
      });
      await waitFor(() => countEvents(src.id), (n) => n === 5);
      const reader = (await t.http.post('/v1/admin/keys').set('Authorization', bearer()).send({ kind: 'read', sourceIds: [src.id] })).body.key;
      const page1 = (await t.http.get(`/v1/sources/${src.id}/events?limit=3`).set('Authorization', `Bearer ${reader}`)).body;
      expect(page1.items.map((e: { messageId: string }) => e.messageId)).toEqual(['q-4', 'q-3', 'q-2']);
      const page2 = (await t.http.get(`/v1/sources/${src.id}/events?limit=3&cursor=${page1.nextCursor}`).set('Authorization', `Bearer ${reader}`)).body;
      expect(page2.items.map((e: { messageId: string }) => e.messageId)).toEqual(['q-1', 'q-0']);
      expect(page2.nextCursor).toBeNull();
      expect((await t.http.get(`/v1/sources/${src.id}/events?cursor=!!`).set('Authorization', `Bearer ${reader}`)).status).toBe(400);
    });
  });

  describe('hardening', () => {
    it('sends security headers; Swagger UI keeps inline scripts and no upgrade-insecure-requests', async () => {
      const res = await t.http.get('/docs');
      expect(res.status).toBe(200);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      const csp = res.headers['content-security-policy'];
      expect(csp).toContain("script-src 'self' 'unsafe-inline'");
      expect(csp).not.toContain('upgrade-insecure-requests');
    });

    it('sends the lean header set on ingestion routes and the full one on JSON APIs, even on errors', async () => {
      const src = await createSource(t);
      const res = await t.http.post('/v1/track').set('Authorization', basic(src.writeKey)).send({ userId: 'u', event: 'h' });
      expect(res.status).toBe(200);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(res.headers['x-frame-options']).toBeUndefined();
      for (const r of [await t.http.get('/v1/admin/sources').set('Authorization', bearer()), await t.http.get('/v1/admin/sources'), await t.http.get('/health/live')]) {
        expect(r.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
        expect(r.headers['x-frame-options']).toBe('SAMEORIGIN');
        expect(r.headers['cross-origin-opener-policy']).toBe('same-origin');
        expect(r.headers['referrer-policy']).toBe('no-referrer');
      }
    });

    it('ignores X-Forwarded-For unless the proxy is trusted', async () => {
      const src = await createSource(t);
      await t.http.post('/v1/track').set('Authorization', basic(src.writeKey)).set('X-Forwarded-For', '203.0.113.9').send({ userId: 'u', event: 'xff', messageId: 'xff-1' });
      const trusted = await startApp({ TRUST_PROXY: '127.0.0.1,::1' });
      try {
        const src2 = await createSource(trusted);
        await trusted.http.post('/v1/track').set('Authorization', basic(src2.writeKey)).set('X-Forwarded-For', '203.0.113.9').send({ userId: 'u', event: 'xff', messageId: 'xff-2' });
        await waitFor(() => countEvents(src2.id), (n) => n === 1);
        const ip2 = await withDb(async (db) => (await db.query('SELECT context FROM events WHERE source_id = $1', [src2.id])).rows[0].context.ip);
        expect(ip2).toBe('203.0.113.9');
      } finally {
        await trusted.close();
      }
      await waitFor(() => countEvents(src.id), (n) => n === 1);
      const ip = await withDb(async (db) => (await db.query('SELECT context FROM events WHERE source_id = $1', [src.id])).rows[0].context.ip);
      expect(ip).not.toBe('203.0.113.9');
    });
  });
});

describe('backpressure', () => {
  it('answers 503 + Retry-After once the backlog passes its limit, and readiness reports it', async () => {
    // api only: nothing drains the queue.
    const t = await startApp({ ROLE: 'api', BACKLOG_LIMIT_EVENTS: '50' });
    try {
      const src = await createSource(t);
      const send = (n: number) =>
        t.http.post('/v1/batch').set('Authorization', basic(src.writeKey)).send({ batch: Array.from({ length: n }, () => ({ type: 'track', userId: 'u', event: 'bp' })) });
      expect((await send(60)).status).toBe(200);
      const refused = await waitFor(() => send(1), (r) => r.status === 503, 10_000, 100);
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      expect(refused.body.message).toMatch(/backlog/);
      const ready = await t.http.get('/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.details.backlog).toMatchObject({ status: 'up', state: 'over_limit', limit: 50 });
      expect((await t.http.get('/metrics')).text).toMatch(/sluice_backpressure_rejections_total [1-9]/);
    } finally {
      await t.close();
    }
  });
});
