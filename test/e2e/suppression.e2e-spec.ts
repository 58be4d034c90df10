import { ADMIN_TOKEN, withDb } from '../support/app';
import { waitForDrain } from '../support/drain';
import { uniqueName } from '../support/env';
import { metric } from '../support/load';
import { RoleProcess, startRole, stopRole } from '../support/processes';
import { deleteRedisPrefix } from '../support/redis';

// Suppression on two api replicas sharing one database: created on one, in force on the other
// within seconds; lifted the same way. A suppressed event is neither stored nor dead-lettered.
describe('suppression on two api replicas', () => {
  const prefix = uniqueName('sup');
  let apis: RoleProcess[];
  let worker: RoleProcess;
  let adminKey: string;
  let source: { id: string; writeKey: string };
  let n = 0;

  const call = async (api: RoleProcess, method: string, path: string, auth: string, body?: unknown) => {
    const headers: Record<string, string> = body === undefined ? { Authorization: auth } : { Authorization: auth, 'Content-Type': 'application/json' };
    const res = await fetch(`${api.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };
  /** Events each user had answered as accepted: what must be stored, no more. */
  const acceptedFor = new Map<string, number>();
  const track = async (api: RoleProcess, userId: string) => {
    const r = await call(api, 'POST', '/v1/track', `Basic ${Buffer.from(`${source.writeKey}:`).toString('base64')}`, { userId, event: 'Sup', messageId: `sup-${n++}` });
    acceptedFor.set(userId, (acceptedFor.get(userId) ?? 0) + (r.body.accepted ?? 0));
    return r;
  };
  /** Sends until `done` holds for the answer; returns how long it took. */
  async function until(api: RoleProcess, userId: string, done: (b: any) => boolean): Promise<number> {
    const start = Date.now();
    for (;;) {
      const r = await track(api, userId);
      expect(r.status).toBe(200);
      if (done(r.body)) return Date.now() - start;
      if (Date.now() - start > 10_000) throw new Error(`not in force after 10 s: ${JSON.stringify(r.body)}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  const storedFor = (userId: string) => withDb(async (db) => Number((await db.query('SELECT count(*) AS n FROM events WHERE source_id = $1 AND user_id = $2', [source.id, userId])).rows[0].n));

  beforeAll(async () => {
    apis = await Promise.all([startRole('api', prefix, { API_RATE_LIMIT_RPS: '0' }), startRole('api', prefix, { API_RATE_LIMIT_RPS: '0' })]);
    worker = await startRole('worker', prefix);
    adminKey = (await call(apis[0], 'POST', '/v1/admin/keys', `Bearer ${ADMIN_TOKEN}`, { kind: 'admin' })).body.key;
    source = (await call(apis[0], 'POST', '/v1/admin/sources', `Bearer ${adminKey}`, { name: uniqueName('sup') })).body;
  });
  afterAll(async () => {
    await Promise.all([...apis, worker].map((p) => stopRole(p)));
    await deleteRedisPrefix(prefix);
  });

  it('drops the person\'s events on every replica within 5 s, keeps everyone else\'s, and lifts the same way', async () => {
    expect((await track(apis[1], 'sup-user')).body).toMatchObject({ accepted: 1, suppressed: 0 });
    const created = await call(apis[0], 'POST', '/v1/admin/privacy/suppressions', `Bearer ${adminKey}`, { userId: 'sup-user', sourceIds: [source.id] });
    expect(created.status).toBe(201);
    // On the replica that took the request at once; on the other within its reload interval.
    expect((await track(apis[0], 'sup-user')).body).toMatchObject({ success: true, accepted: 0, suppressed: 1 });
    const took = await until(apis[1], 'sup-user', (b) => b.suppressed === 1);
    // Bounded by the reload interval (2 s); `until` gives up after 10 s.
    console.log(`  suppression in force on the other replica after ${took} ms`);
    expect((await track(apis[1], 'someone-else')).body).toMatchObject({ accepted: 1, suppressed: 0 });
    const batch = await call(apis[1], 'POST', '/v1/batch', `Basic ${Buffer.from(`${source.writeKey}:`).toString('base64')}`, {
      batch: [
        { type: 'track', userId: 'sup-user', event: 'Sup', messageId: `sup-${n++}` },
        { type: 'identify', userId: 'sup-user', messageId: `sup-${n++}` },
        { type: 'track', userId: 'someone-else', event: 'Sup', messageId: `sup-${n++}` },
      ],
    });
    expect(batch.body).toMatchObject({ accepted: 1, suppressed: 2, rejected: [] });
    const listed = await call(apis[1], 'GET', '/v1/admin/privacy/suppressions', `Bearer ${adminKey}`);
    expect(listed.body.map((s: { id: string }) => s.id)).toContain(created.body.id);

    await waitForDrain(prefix);
    // Only what was answered as accepted: before the suppression, and on the other replica before it reloaded.
    expect(await storedFor('sup-user')).toBe(acceptedFor.get('sup-user'));
    const dead = await withDb(async (db) => Number((await db.query('SELECT count(*) AS n FROM dead_letters WHERE source_id = $1', [source.id])).rows[0].n));
    expect(dead).toBe(0);
    expect((await metric(apis[0].url, 'sluice_events_suppressed_total')) ?? 0).toBeGreaterThan(0);

    const lifted = await call(apis[1], 'DELETE', `/v1/admin/privacy/suppressions/${created.body.id}`, `Bearer ${adminKey}`);
    expect(lifted.body.liftedAt).not.toBeNull();
    console.log(`  lift in force on the other replica after ${await until(apis[0], 'sup-user', (b) => b.accepted === 1)} ms`);
    await waitForDrain(prefix);
    expect(await storedFor('sup-user')).toBe(acceptedFor.get('sup-user'));

    const audit = await withDb(async (db) => (await db.query(`SELECT action, change FROM audit_log WHERE target_id = $1 ORDER BY id`, [created.body.id])).rows);
    expect(audit.map((a: { action: string }) => a.action)).toEqual(['privacy.suppress', 'privacy.lift_suppression']);
    expect(JSON.stringify(audit)).not.toContain('sup-user'); // a hash, never the identifier
  });

  it('a suppression for other sources, or by anonymousId, applies only where it says', async () => {
    const other = (await call(apis[0], 'POST', '/v1/admin/sources', `Bearer ${adminKey}`, { name: uniqueName('sup2') })).body;
    const scoped = await call(apis[0], 'POST', '/v1/admin/privacy/suppressions', `Bearer ${adminKey}`, { userId: 'elsewhere', sourceIds: [other.id] });
    const everywhere = await call(apis[0], 'POST', '/v1/admin/privacy/suppressions', `Bearer ${adminKey}`, { anonymousId: 'anon-sup' });
    expect((await track(apis[0], 'elsewhere')).body).toMatchObject({ accepted: 1, suppressed: 0 });
    const anon = await call(apis[0], 'POST', '/v1/track', `Basic ${Buffer.from(`${source.writeKey}:`).toString('base64')}`, { anonymousId: 'anon-sup', event: 'Sup' });
    expect(anon.body).toMatchObject({ accepted: 0, suppressed: 1 });
    const bad = await call(apis[0], 'POST', '/v1/admin/privacy/suppressions', `Bearer ${adminKey}`, { userId: 'a', anonymousId: 'b' });
    expect(bad.status).toBe(400);
    expect((await call(apis[0], 'POST', '/v1/admin/privacy/suppressions', `Bearer ${adminKey}`, {})).status).toBe(400);
    expect((await call(apis[0], 'DELETE', '/v1/admin/privacy/suppressions/00000000-0000-4000-8000-000000000000', `Bearer ${adminKey}`)).status).toBe(404);
    // The test database is shared: leave no suppression in force for the suites after this one.
    for (const s of [scoped, everywhere]) expect((await call(apis[0], 'DELETE', `/v1/admin/privacy/suppressions/${s.body.id}`, `Bearer ${adminKey}`)).status).toBe(200);
  });
});
