import { readFileSync } from 'node:fs';
import { ADMIN_TOKEN, withDb } from '../support/app';
import { uniqueName } from '../support/env';
import { RoleProcess, startRole, stopRole } from '../support/processes';
import { deleteRedisPrefix } from '../support/redis';

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;

// Data portability on a real api process: a person with 200,000 events (about 1 KB each) is
// exported as NDJSON, with the anonymousIds linked to them; the process's memory must not grow
// with the export (it is streamed through a database cursor), and nobody else's events leak in.
describe('privacy export', () => {
  const prefix = uniqueName('exp');
  let api: RoleProcess;
  let adminKey: string;
  let sourceId: string;
  const BIG = 200_000;
  const HEAP_MB = 128;

  beforeAll(async () => {
    // A V8 heap smaller than half the export: loading it would end in an out-of-memory crash.
    api = await startRole('api', prefix, { API_RATE_LIMIT_RPS: '0', NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}` });
    const call = async (path: string, auth: string, body: unknown) =>
      (await (await fetch(`${api.url}${path}`, { method: 'POST', headers: { Authorization: auth, 'Content-Type': 'application/json' }, body: JSON.stringify(body) })).json()) as any;
    adminKey = (await call('/v1/admin/keys', `Bearer ${ADMIN_TOKEN}`, { kind: 'admin' })).key;
    sourceId = (await call('/v1/admin/sources', `Bearer ${adminKey}`, { name: uniqueName('exp') })).id;
    await withDb(async (db) => {
      await db.query(`SELECT sluice_ensure_event_partition(d::date) FROM generate_series('2026-09-01'::date, '2026-09-04'::date, interval '1 day') AS d`);
      const insert = (where: string, params: unknown[]) =>
        db.query(
          `INSERT INTO events (source_id, message_id, type, event, user_id, anonymous_id, previous_id, "timestamp", received_at, properties)
           SELECT $1, m, t, e, u, a, p, ts, ts, props FROM (${where}) x`,
          [sourceId, ...params],
        );
      // The person: 200,000 events, an identify tying them to anon-1, an alias from old-id.
      await insert(
        `SELECT 'big-' || i AS m, 'track' AS t, 'Exported' AS e, 'exp-user' AS u, NULL AS a, NULL AS p,
                '2026-09-01T00:00:00Z'::timestamptz + i * interval '1 second' AS ts, jsonb_build_object('i', i, 'pad', repeat('x', 1000)) AS props
           FROM generate_series(1, $2::int) AS i`,
        [BIG],
      );
      await insert(`SELECT 'id-1' AS m, 'identify' AS t, NULL AS e, 'exp-user' AS u, 'anon-1' AS a, NULL AS p, '2026-09-03T00:00:00Z'::timestamptz AS ts, '{}'::jsonb AS props`, []);
      await insert(`SELECT 'alias-1' AS m, 'alias' AS t, NULL AS e, 'exp-user' AS u, NULL AS a, 'old-id' AS p, '2026-09-03T00:00:01Z'::timestamptz AS ts, '{}'::jsonb AS props`, []);
      await insert(`SELECT 'anon-' || i AS m, 'page' AS t, NULL AS e, NULL AS u, 'anon-1' AS a, NULL AS p, '2026-09-03T01:00:00Z'::timestamptz + i * interval '1 minute' AS ts, '{}'::jsonb AS props FROM generate_series(1, 10) AS i`, []);
      await insert(`SELECT 'old-' || i AS m, 'page' AS t, NULL AS e, NULL AS u, 'old-id' AS a, NULL AS p, '2026-09-03T02:00:00Z'::timestamptz + i * interval '1 minute' AS ts, '{}'::jsonb AS props FROM generate_series(1, 5) AS i`, []);
      await insert(`SELECT 'other-' || i AS m, 'track' AS t, 'Other' AS e, 'someone-else' AS u, 'anon-other' AS a, NULL AS p, '2026-09-02T00:00:00Z'::timestamptz + i * interval '1 minute' AS ts, '{}'::jsonb AS props FROM generate_series(1, 20) AS i`, []);
      await db.query('ANALYZE events');
    });
  });
  afterAll(async () => {
    await stopRole(api);
    await deleteRedisPrefix(prefix);
  });

  it('streams every event of the person and their linked anonymousIds, in constant memory', async () => {
    const pid = api.proc.pid!;
    const before = rssOf(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 20);
    const res = await fetch(`${api.url}/v1/admin/privacy/exports?userId=exp-user&sourceIds=${sourceId}`, { headers: { Authorization: `Bearer ${adminKey}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    // Read it as a client would, line by line, keeping only what the assertions need.
    const decoder = new TextDecoder();
    let rest = '';
    let lines = 0;
    let bytes = 0;
    let first: any;
    let last: any;
    const kinds = new Map<string, number>();
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.length;
      const text = rest + decoder.decode(value, { stream: true });
      const parts = text.split('\n');
      rest = parts.pop()!;
      for (const line of parts) {
        const o = JSON.parse(line);
        if (lines === 0) first = o;
        last = o;
        lines++;
        if (o.messageId) kinds.set(o.messageId.split('-')[0], (kinds.get(o.messageId.split('-')[0]) ?? 0) + 1);
      }
    }
    clearInterval(sampler);
    const growth = peak - before;
    console.log(`  export: ${lines} lines, ${Math.round(bytes / 1e6)} MB streamed; api RSS ${Math.round(before / 1e6)} MB before, peak ${Math.round(peak / 1e6)} MB (+${Math.round(growth / 1e6)} MB)`);
    expect(first.export).toMatchObject({ userId: 'exp-user', linkedAnonymousIds: ['anon-1', 'old-id'] });
    expect(last).toEqual({ end: { events: BIG + 2 + 10 + 5 } });
    expect(Object.fromEntries(kinds)).toEqual({ big: BIG, id: 1, alias: 1, anon: 10, old: 5 });
    // Over 200 MB went through a process whose heap may not exceed HEAP_MB: streamed, not loaded
    // (RSS also counts garbage V8 has not collected yet, so it is reported, not bounded here).
    expect(bytes).toBeGreaterThan(2 * HEAP_MB * 1024 * 1024);
    expect(api.proc.exitCode).toBeNull();
    expect((await fetch(`${api.url}/health/live`)).status).toBe(200);
  });

  it('is audited with a hash of the person, and refuses a request without exactly one identity', async () => {
    const audit = await withDb(async (db) => (await db.query(`SELECT change FROM audit_log WHERE action = 'privacy.export' ORDER BY id DESC LIMIT 1`)).rows[0].change);
    expect(audit.identity).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(audit)).not.toContain('exp-user');
    const none = await fetch(`${api.url}/v1/admin/privacy/exports`, { headers: { Authorization: `Bearer ${adminKey}` } });
    expect(none.status).toBe(400);
    const both = await fetch(`${api.url}/v1/admin/privacy/exports?userId=a&anonymousId=b`, { headers: { Authorization: `Bearer ${adminKey}` } });
    expect(both.status).toBe(400);
  });
});
