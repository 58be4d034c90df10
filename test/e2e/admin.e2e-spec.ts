import { ADMIN_TOKEN, startApp, TestApp, withDb } from '../support/app';
import { createHash } from 'node:crypto';

describe('admin API: sources and write keys', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  const auth = (req: ReturnType<TestApp['http']['get']>) => req.set('Authorization', `Bearer ${t.adminKey}`);

  it('creates a source, shows its key once and stores only a hash', async () => {
    const res = await auth(t.http.post('/v1/admin/sources')).send({ name: 'web' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(String), name: 'web', writeKey: expect.stringMatching(/^sk_write_[0-9A-Za-z]{8}_[0-9A-Za-z]{32}$/), createdAt: expect.any(String) });
    const stored = await withDb(async (db) => (await db.query('SELECT * FROM api_keys WHERE source_id = $1', [res.body.id])).rows);
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(res.body.writeKey.split('_')[3]);
    expect(stored[0].secret_hash.equals(createHash('sha256').update(res.body.writeKey).digest())).toBe(true);

    const list = await auth(t.http.get('/v1/admin/sources'));
    expect(list.status).toBe(200);
    const mine = list.body.find((s: { id: string }) => s.id === res.body.id);
    expect(mine.writeKeys[0].prefix).toBe(res.body.writeKey.slice(0, 18));
    expect(JSON.stringify(list.body)).not.toContain(res.body.writeKey);
  });

  it('refuses missing or wrong credentials with 401', async () => {
    expect((await t.http.get('/v1/admin/sources')).status).toBe(401);
    expect((await t.http.get('/v1/admin/sources').set('Authorization', 'Bearer wrong')).status).toBe(401);
    expect((await t.http.get('/v1/admin/sources').set('Authorization', `Basic ${ADMIN_TOKEN}`)).status).toBe(401);
  });

  it('lets ADMIN_TOKEN bootstrap admin keys and nothing else', async () => {
    const boot = (req: ReturnType<TestApp['http']['get']>) => req.set('Authorization', `Bearer ${ADMIN_TOKEN}`);
    expect((await boot(t.http.get('/v1/admin/sources'))).status).toBe(403);
    expect((await boot(t.http.post('/v1/admin/sources')).send({ name: 'x' })).status).toBe(403);
    expect((await boot(t.http.post('/v1/admin/keys')).send({ kind: 'read' })).status).toBe(403);
    const created = await boot(t.http.post('/v1/admin/keys')).send({ kind: 'admin', name: 'first' });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^sk_admin_/);
    expect((await t.http.get('/v1/admin/sources').set('Authorization', `Bearer ${created.body.key}`)).status).toBe(200);
  });

  it('validates the source name with 400 and a message', async () => {
    for (const body of [{}, { name: '' }, { name: '   ' }, { name: 'x'.repeat(201) }, { name: 5 }, { name: 'ok', extra: 1 }]) {
      const res = await auth(t.http.post('/v1/admin/sources')).send(body);
      expect(res.status).toBe(400);
      expect(res.body.message).toEqual(expect.any(String));
    }
  });
});
