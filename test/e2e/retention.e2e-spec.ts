import { ADMIN_TOKEN, waitFor } from '../support/app';
import { createDatabase } from '../support/database';
import { waitForDrain } from '../support/drain';
import { uniqueName } from '../support/env';
import { RoleProcess, startRole, stopRole } from '../support/processes';
import { deleteRedisPrefix } from '../support/redis';

const DAY = 86_400_000;
const startOfUtcDay = (t: number) => t - (t % DAY);

// Retention on real processes and a database of its own (it drops whole partitions): events sent
// through ingestion over ten UTC days into two sources, then workers started with a shorter
// RETENTION_DAYS and one source set to keep three days. One run happens though two workers race
// for it; afterwards only what the retention allows is left, dedup claims and rollups match the
// rows that remain exactly, and every worker reports the run's gauges.
describe('retention', () => {
  const prefix = uniqueName('ret');
  let db: Awaited<ReturnType<typeof createDatabase>>;
  const procs: RoleProcess[] = [];
  let api: RoleProcess;
  let first: RoleProcess;
  let adminKey: string;
  let a: { id: string; writeKey: string };
  let b: { id: string; writeKey: string };
  const now = Date.now();

  const start = async (role: 'api' | 'worker', env: Record<string, string>) => {
    const p = await startRole(role, prefix, { DATABASE_URL: db.url, API_RATE_LIMIT_RPS: '0', LIFECYCLE_BATCH_ROWS: '100', ...env });
    procs.push(p);
    return p;
  };
  const call = async (method: string, path: string, auth: string, body?: unknown) => {
    const headers: Record<string, string> = body === undefined ? { Authorization: auth } : { Authorization: auth, 'Content-Type': 'application/json' };
    const res = await fetch(`${api.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };
  const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
  const count = async (sql: string, params: unknown[] = []) => Number((await db.query<{ n: string }>(sql, params))[0].n);

  beforeAll(async () => {
    db = await createDatabase('sluice_ret');
    api = await start('api', { RETENTION_DAYS: '30' });
    first = await start('worker', { RETENTION_DAYS: '30', RETENTION_INTERVAL_MS: '600000' });
    adminKey = (await call('POST', '/v1/admin/keys', `Bearer ${ADMIN_TOKEN}`, { kind: 'admin' })).body.key;
    a = (await call('POST', '/v1/admin/sources', `Bearer ${adminKey}`, { name: 'keeps-global' })).body;
    b = (await call('POST', '/v1/admin/sources', `Bearer ${adminKey}`, { name: 'keeps-three-days' })).body;
    for (const s of [a, b]) {
      const batch: unknown[] = [];
      for (let day = 0; day < 10; day++) {
        for (let i = 0; i < 30; i++) {
          const at = new Date(now - day * DAY - i * 60_000 - 60_000).toISOString();
          batch.push({ type: 'track', event: i % 3 ? 'Viewed' : 'Bought', userId: `u-${i % 7}`, messageId: `${prefix}-${s.id}-${day}-${i}`, timestamp: at });
        }
        batch.push({ type: 'page', name: 'Home', anonymousId: `anon-${day}`, messageId: `${prefix}-${s.id}-${day}-page`, timestamp: new Date(now - day * DAY - 120_000).toISOString() });
      }
      expect((await call('POST', '/v1/batch', basic(s.writeKey), { batch })).status).toBe(200);
    }
    await waitForDrain(prefix);
    expect(await count(`SELECT count(*) AS n FROM events`)).toBe(2 * 10 * 31);
    // An old dead letter (past any retention here) and a recent one.
    await db.query(
      `INSERT INTO dead_letters (source_id, message_id, reason_code, reason, payload_text, payload, created_at)
       VALUES ($1, 'dl-old', 'invalid_event', 'test', '{}', '{}', now() - interval '20 days'), ($1, 'dl-new', 'invalid_event', 'test', '{}', '{}', now())`,
      [a.id],
    );
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => stopRole(p, 'SIGKILL')));
    await deleteRedisPrefix(prefix);
    await db?.drop();
  });

  it('keeps a shorter retention per source, refused at the door and shown with what takes effect', async () => {
    const patched = await call('PATCH', `/v1/admin/sources/${b.id}`, `Bearer ${adminKey}`, { retentionDays: 3 });
    expect(patched.status).toBe(200);
    expect(patched.body.retention).toEqual({ retentionDays: 3, effectiveDays: 3 });
    const longer = await call('PATCH', `/v1/admin/sources/${a.id}`, `Bearer ${adminKey}`, { retentionDays: 90 });
    expect(longer.body.retention).toEqual({ retentionDays: 90, effectiveDays: 30 }); // never more than RETENTION_DAYS
    expect((await call('PATCH', `/v1/admin/sources/${a.id}`, `Bearer ${adminKey}`, { retentionDays: 0 })).status).toBe(400);
    expect((await call('PATCH', `/v1/admin/sources/${a.id}`, `Bearer ${adminKey}`, { retentionDays: null })).body.retention).toEqual({ retentionDays: null, effectiveDays: 30 });
    const audit = await db.query<{ change: Record<string, unknown> }>(`SELECT change FROM audit_log WHERE action = 'source.update' AND target_id = $1`, [b.id]);
    expect(audit[0].change).toEqual({ retentionDays: { from: null, to: 3 } });

    // Four days old: fine for a, past b's retention (the key cache drops the old limits at once).
    const old = { type: 'track', event: 'Late', userId: 'late', timestamp: new Date(now - 4 * DAY).toISOString() };
    const refused = await waitFor(
      () => call('POST', '/v1/track', basic(b.writeKey), { ...old, messageId: `${prefix}-late-b` }),
      (r) => r.status === 400,
      6000,
    );
    expect(refused.body).toMatchObject({ reason: 'timestamp_past_retention' });
    expect(refused.body.message).toContain('3 days this source keeps');
    expect((await call('POST', '/v1/track', basic(a.writeKey), { ...old, messageId: `${prefix}-late-a` })).status).toBe(200);
    await waitForDrain(prefix);
  });

  it('runs once across two workers and leaves exactly what retention allows', async () => {
    await stopRole(first);
    const before = await db.query<{ source_id: string; old: boolean; n: string }>(
      `SELECT source_id, "timestamp" < $1 AS old, count(*) AS n FROM events GROUP BY 1, 2`,
      [new Date(startOfUtcDay(now - 3 * DAY))],
    );
    const runsBefore = Number((await db.query<{ runs: string }>(`SELECT runs FROM scheduled_runs WHERE name = 'retention'`))[0].runs);
    // The first worker's run (at 30 days) removed nothing and is recent: make the next one due.
    await db.query(`UPDATE scheduled_runs SET succeeded_at = now() - interval '1 day' WHERE name = 'retention'`);
    const workers = await Promise.all([1, 2].map(() => start('worker', { RETENTION_DAYS: '6', RETENTION_INTERVAL_MS: '600000' })));
    const run = await waitFor(
      async () => (await db.query<{ runs: string; outcome: string | null; succeeded_at: Date; result: any }>(`SELECT runs, outcome, succeeded_at, result FROM scheduled_runs WHERE name = 'retention'`))[0],
      (r) => r.outcome === 'ok' && r.succeeded_at.getTime() > now,
      30_000,
    );
    expect(run.outcome).toBe('ok');
    expect(Number(run.runs)).toBe(runsBefore + 1);

    const globalCut = new Date(startOfUtcDay(now - 6 * DAY));
    const bCut = new Date(startOfUtcDay(now - 3 * DAY));
    expect(run.result.cutoff).toBe(globalCut.toISOString());
    // No partition wholly before the cutoff is left; the ones after it are.
    const left = await db.query<{ name: string }>(`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass`);
    const day = (t: number) => `events_${new Date(t).toISOString().slice(0, 10).replace(/-/g, '')}`;
    const names = left.map((r) => r.name);
    for (let d = 7; d < 10; d++) expect(names).not.toContain(day(now - d * DAY));
    for (let d = 0; d <= 5; d++) expect(names).toContain(day(now - d * DAY));
    expect(run.result.partitionsDropped.length).toBeGreaterThanOrEqual(3);

    expect(await count(`SELECT count(*) AS n FROM events WHERE "timestamp" < $1`, [globalCut])).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM events WHERE source_id = $1 AND "timestamp" < $2`, [b.id, bCut])).toBe(0);
    // What retention allows is all still there: a's rows since the global cutoff, b's since its own.
    const expectA = await count(`SELECT count(*) AS n FROM events WHERE source_id = $1 AND "timestamp" >= $2`, [a.id, globalCut]);
    expect(expectA).toBeGreaterThan(150);
    const sumBefore = (source: string, pred: (old: boolean) => boolean) => before.filter((r) => r.source_id === source && pred(r.old)).reduce((s, r) => s + Number(r.n), 0);
    expect(await count(`SELECT count(*) AS n FROM events WHERE source_id = $1`, [b.id])).toBe(sumBefore(b.id, (old) => !old));
    expect(run.result.sources).toEqual([expect.objectContaining({ sourceId: b.id, retentionDays: 3, cutoff: bCut.toISOString() })]);

    // Dedup claims: exactly one per stored event, none left behind.
    expect(await count(`SELECT count(*) AS n FROM event_dedup`)).toBe(await count(`SELECT count(*) AS n FROM events`));
    expect(await count(`SELECT count(*) AS n FROM event_dedup d WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.source_id = d.source_id AND e.message_id = d.message_id)`)).toBe(0);
    // Rollups equal a recount from the raw rows that remain, both ways.
    const diff = async (rollup: string, recount: string) => count(`SELECT count(*) AS n FROM ((${rollup} EXCEPT ${recount}) UNION ALL (${recount} EXCEPT ${rollup})) x`);
    expect(await diff(`SELECT source_id, hour, type, event, n FROM event_counts_hourly`,
      `SELECT source_id, date_trunc('hour', "timestamp", 'UTC'), type, coalesce(event, ''), count(*) FROM events GROUP BY 1, 2, 3, 4`)).toBe(0);
    expect(await diff(`SELECT source_id, day, user_key FROM event_users_daily`,
      `SELECT DISTINCT source_id, ("timestamp" AT TIME ZONE 'UTC')::date, coalesce(user_id, anonymous_id) FROM events WHERE coalesce(user_id, anonymous_id) IS NOT NULL`)).toBe(0);
    expect(await diff(`SELECT source_id, day, users FROM event_uniques_daily`, `SELECT source_id, day, count(*) FROM event_users_daily GROUP BY 1, 2`)).toBe(0);
    // The old dead letter went, the recent one stayed.
    expect((await db.query<{ message_id: string }>(`SELECT message_id FROM dead_letters`)).map((r) => r.message_id)).toEqual(['dl-new']);
    expect(run.result.removed.dead_letters).toBe(1);
    expect(run.result.removed.events).toBe(2 * 10 * 31 + 1 - (await count(`SELECT count(*) AS n FROM events`)));

    // Both workers report the run from the table, whichever of them ran it.
    for (const w of workers) {
      const text = await (await fetch(`${w.url}/metrics`)).text();
      const last = Number(/^sluice_scheduled_job_last_success_timestamp_seconds\{task="retention"\} (\S+)$/m.exec(text)?.[1]);
      expect(last * 1000).toBeGreaterThan(now);
      expect(text).toMatch(/sluice_scheduled_job_interval_seconds\{task="retention"\} 600/);
    }
    const dropped = await Promise.all(workers.map(async (w) => Number(/^sluice_retention_partitions_dropped_total (\S+)$/m.exec(await (await fetch(`${w.url}/metrics`)).text())?.[1] ?? 0)));
    expect(dropped.sort((x, y) => x - y)).toEqual([0, run.result.partitionsDropped.length]);
  });
});
