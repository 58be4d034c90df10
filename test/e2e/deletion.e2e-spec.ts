import { createHash } from 'node:crypto';
import { ADMIN_TOKEN, waitFor, withDb } from '../support/app';
import { waitForDrain } from '../support/drain';
import { uniqueName } from '../support/env';
import { RoleProcess, startRole, stopRole } from '../support/processes';
import { deleteRedisPrefix } from '../support/redis';

// Deletion of a person on real processes: events sent through ingestion over three UTC days (so
// across partitions, with the rollups the worker keeps), an identify and an alias linking two
// anonymousIds, a dead letter. Afterwards nothing of the person remains, the rollups equal a
// recount from the raw rows, the other users are untouched and the record holds only a hash.
describe('privacy deletion', () => {
  const prefix = uniqueName('del');
  let api: RoleProcess;
  let worker: RoleProcess;
  let adminKey: string;
  let source: { id: string; writeKey: string };
  const user = `del-user-${prefix}`;
  const HOUR = 3_600_000;

  const call = async (method: string, path: string, auth: string, body?: unknown) => {
    const headers: Record<string, string> = body === undefined ? { Authorization: auth } : { Authorization: auth, 'Content-Type': 'application/json' };
    const res = await fetch(`${api.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    api = await startRole('api', prefix, { API_RATE_LIMIT_RPS: '0' });
    worker = await startRole('worker', prefix, { LIFECYCLE_BATCH_ROWS: '100' });
    adminKey = (await call('POST', '/v1/admin/keys', `Bearer ${ADMIN_TOKEN}`, { kind: 'admin' })).body.key;
    source = (await call('POST', '/v1/admin/sources', `Bearer ${adminKey}`, { name: uniqueName('del') })).body;
    const write = `Basic ${Buffer.from(`${source.writeKey}:`).toString('base64')}`;
    const at = (hoursAgo: number, i = 0) => new Date(Date.now() - hoursAgo * HOUR + i * 1000).toISOString();
    const batch: unknown[] = [];
    for (const hoursAgo of [1, 25, 49]) {
      for (let i = 0; i < 150; i++) batch.push({ type: 'track', event: i % 2 ? 'Bought' : 'Viewed', userId: user, messageId: `${prefix}-u-${hoursAgo}-${i}`, timestamp: at(hoursAgo, i) });
      for (let i = 0; i < 40; i++) batch.push({ type: 'track', event: 'Viewed', userId: `other-${i % 4}`, anonymousId: `other-anon-${i % 4}`, messageId: `${prefix}-o-${hoursAgo}-${i}`, timestamp: at(hoursAgo, i) });
      // Anonymous events that the identify and the alias tie to the person.
      for (let i = 0; i < 10; i++) batch.push({ type: 'page', name: 'Home', anonymousId: `${prefix}-anon-1`, messageId: `${prefix}-a-${hoursAgo}-${i}`, timestamp: at(hoursAgo, i) });
      for (let i = 0; i < 5; i++) batch.push({ type: 'page', name: 'Old', anonymousId: `${prefix}-old`, messageId: `${prefix}-p-${hoursAgo}-${i}`, timestamp: at(hoursAgo, i) });
    }
    batch.push({ type: 'identify', userId: user, anonymousId: `${prefix}-anon-1`, messageId: `${prefix}-identify`, timestamp: at(2) });
    batch.push({ type: 'alias', userId: user, previousId: `${prefix}-old`, messageId: `${prefix}-alias`, timestamp: at(2) });
    for (let i = 0; i < batch.length; i += 500) {
      const r = await call('POST', '/v1/batch', write, { batch: batch.slice(i, i + 500) });
      expect(r.status).toBe(200);
    }
    await waitForDrain(prefix);
    await withDb((db) =>
      db.query(`INSERT INTO dead_letters (source_id, message_id, reason_code, reason, payload_text, payload) VALUES ($1, $2, 'invalid_event', 'test', $3::text, $3::jsonb)`, [
        source.id,
        `${prefix}-dl`,
        JSON.stringify({ userId: user, event: 'Broken' }),
      ]),
    );
    // Tracking-plan violation groups whose sample is the person's (by userId, and by a linked anonymousId), and one of someone else.
    await withDb((db) =>
      db.query(
        `INSERT INTO violation_counts_hourly (source_id, hour, event_type, event, violation, keyword, instance_path, action, n, message, sample)
         VALUES ($1, date_trunc('hour', now()), 'track', 'Bought', 'schema_violation', 'type', '/properties/x', 'flag', 3, 'm', $2::jsonb),
                ($1, date_trunc('hour', now()), 'page', '', 'schema_violation', 'type', '/properties/y', 'flag', 2, 'm', $3::jsonb),
                ($1, date_trunc('hour', now()), 'track', 'Viewed', 'schema_violation', 'type', '/properties/z', 'flag', 1, 'm', $4::jsonb)`,
        [source.id, JSON.stringify({ type: 'track', userId: user }), JSON.stringify({ type: 'page', anonymousId: `${prefix}-anon-1` }), JSON.stringify({ type: 'track', userId: 'other-1' })],
      ),
    );
  });
  afterAll(async () => {
    await stopRole(worker);
    await stopRole(api);
    await deleteRedisPrefix(prefix);
  });

  const personRows = () =>
    withDb(async (db) => {
      const ids = [user, `${prefix}-anon-1`, `${prefix}-old`];
      const e = await db.query(`SELECT count(*)::int AS n FROM events WHERE source_id = $1 AND (user_id = $2 OR anonymous_id = ANY($3))`, [source.id, user, ids]);
      const d = await db.query(`SELECT count(*)::int AS n FROM event_dedup WHERE source_id = $1 AND message_id LIKE $2 AND message_id NOT LIKE $3`, [source.id, `${prefix}-%`, `${prefix}-o-%`]);
      const l = await db.query(`SELECT count(*)::int AS n FROM dead_letters WHERE source_id = $1 AND payload->>'userId' = $2`, [source.id, user]);
      return { events: e.rows[0].n as number, dedup: d.rows[0].n as number, letters: l.rows[0].n as number };
    });

  /** The rollups of the source against a recount from its raw events: both sides must agree. */
  const rollupsMatchRaw = () =>
    withDb(async (db) => {
      const hourly = await db.query(
        `SELECT count(*)::int AS n FROM (
           (SELECT hour, type, event, n FROM event_counts_hourly WHERE source_id = $1
            EXCEPT SELECT date_trunc('hour', "timestamp", 'UTC'), type, coalesce(event, ''), count(*) FROM events WHERE source_id = $1 GROUP BY 1, 2, 3)
           UNION ALL
           (SELECT date_trunc('hour', "timestamp", 'UTC'), type, coalesce(event, ''), count(*) FROM events WHERE source_id = $1 GROUP BY 1, 2, 3
            EXCEPT SELECT hour, type, event, n FROM event_counts_hourly WHERE source_id = $1)) x`,
        [source.id],
      );
      const users = await db.query(
        `SELECT count(*)::int AS n FROM (
           (SELECT day, user_key FROM event_users_daily WHERE source_id = $1
            EXCEPT SELECT DISTINCT ("timestamp" AT TIME ZONE 'UTC')::date, coalesce(user_id, anonymous_id) FROM events WHERE source_id = $1)
           UNION ALL
           (SELECT DISTINCT ("timestamp" AT TIME ZONE 'UTC')::date, coalesce(user_id, anonymous_id) FROM events WHERE source_id = $1
            EXCEPT SELECT day, user_key FROM event_users_daily WHERE source_id = $1)) x`,
        [source.id],
      );
      const uniques = await db.query(
        `SELECT count(*)::int AS n FROM event_uniques_daily d
          WHERE d.source_id = $1 AND d.users <> (SELECT count(*) FROM event_users_daily u WHERE u.source_id = d.source_id AND u.day = d.day)`,
        [source.id],
      );
      return { hourly: hourly.rows[0].n as number, users: users.rows[0].n as number, uniques: uniques.rows[0].n as number };
    });

  it('deletes the person, their linked anonymousIds, dedup claims, rollup share and dead letters, and proves it', async () => {
    const before = await personRows();
    expect(before).toEqual({ events: 3 * 165 + 2, dedup: 3 * 165 + 2, letters: 1 });
    expect(await rollupsMatchRaw()).toEqual({ hourly: 0, users: 0, uniques: 0 });
    const others = await withDb(async (db) => (await db.query(`SELECT count(*)::int AS n FROM events WHERE source_id = $1 AND user_id LIKE 'other-%'`, [source.id])).rows[0].n as number);

    const created = await call('POST', '/v1/admin/privacy/deletions', `Bearer ${adminKey}`, { userId: user, sourceIds: [source.id] });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ status: 'pending', identity: { kind: 'userId', sha256: createHash('sha256').update(`userId:${user}`).digest('hex') } });
    const done = await waitFor(
      async () => (await call('GET', `/v1/admin/privacy/deletions/${created.body.id}`, `Bearer ${adminKey}`)).body,
      (b) => b.status === 'done',
      // Every worker of the run polls the one test database: another suite's worker may claim
      // the request and be killed mid-way, and its lease (60 s) must lapse before one continues.
      150_000,
      200,
    );
    expect(done.status).toBe('done');
    expect(done.verification).toMatchObject({
      verified: true,
      remaining: { events: 0, dead_letters: 0, violation_samples: 0 },
      linkedAnonymousIds: 2,
      removed: { events: before.events, event_dedup: before.dedup, dead_letters: 1, violation_samples: 2 },
    });
    const samples = await withDb(async (db) => (await db.query(`SELECT n::int, sample FROM violation_counts_hourly WHERE source_id = $1 ORDER BY instance_path`, [source.id])).rows);
    expect(samples).toEqual([{ n: 3, sample: null }, { n: 2, sample: null }, { n: 1, sample: { type: 'track', userId: 'other-1' } }]); // counts kept
    expect(done.verification.removed.event_users_daily).toBeGreaterThanOrEqual(3 * 3);
    expect(done.progress.partitionsDone).toBe(done.progress.partitionsTotal);

    expect(await personRows()).toEqual({ events: 0, dedup: 0, letters: 0 });
    expect(await rollupsMatchRaw()).toEqual({ hourly: 0, users: 0, uniques: 0 });
    const othersAfter = await withDb(async (db) => (await db.query(`SELECT count(*)::int AS n FROM events WHERE source_id = $1 AND user_id LIKE 'other-%'`, [source.id])).rows[0].n as number);
    expect(othersAfter).toBe(others);

    // The record keeps a hash, never the identifier or the linked anonymousIds.
    const stored = await withDb(async (db) => (await db.query(`SELECT row_to_json(d)::text AS j FROM privacy_deletions d WHERE id = $1`, [created.body.id])).rows[0].j as string);
    expect(stored).not.toContain(user);
    expect(stored).not.toContain(`${prefix}-anon-1`);
    const audit = await withDb(async (db) => (await db.query(`SELECT change::text AS c FROM audit_log WHERE action = 'privacy.delete' AND target_id = $1`, [created.body.id])).rows);
    expect(audit).toHaveLength(1);
    expect(audit[0].c).not.toContain(user);
  }, 200_000);

  it('refuses a request without exactly one identifier, with a JSON error', async () => {
    const r = await call('POST', '/v1/admin/privacy/deletions', `Bearer ${adminKey}`, { userId: 'a', anonymousId: 'b' });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/exactly one/);
    expect((await call('GET', '/v1/admin/privacy/deletions/00000000-0000-4000-8000-000000000000', `Bearer ${adminKey}`)).status).toBe(404);
  });
});
