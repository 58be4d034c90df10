import { ADMIN_TOKEN } from '../support/app';
import { queueState, waitForDrain } from '../support/drain';
import { uniqueName } from '../support/env';
import { PrivatePostgres } from '../support/private-postgres';
import { RoleProcess, startRole, stopRole } from '../support/processes';
import { freePort } from '../support/redis-server';
import { deleteRedisPrefix } from '../support/redis';
import { Load, metric } from '../support/load';

// A PostgreSQL outage several times longer than the whole retry budget, on real processes and a
// private PostgreSQL that is crashed (pg_ctl -m immediate) under load. Before the fix, jobs used
// up their attempts against the dead database and valid events went to dead_letters.
const OUTAGE_S = Number(process.env.FAULT_PG_OUTAGE_S ?? 15);
const ATTEMPTS = Number(process.env.FAULT_JOB_ATTEMPTS ?? 3);
const BACKOFF_MS = Number(process.env.FAULT_JOB_BACKOFF_MS ?? 200);
// Bull's exponential backoff: delay * 2^(n-1) after the n-th failure.
const BUDGET_S = (Array.from({ length: ATTEMPTS - 1 }, (_, i) => BACKOFF_MS * 2 ** i).reduce((a, b) => a + b, 0)) / 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PostgreSQL outage longer than the retry budget (real processes, private PostgreSQL)', () => {
  let pg: PrivatePostgres;
  const procs: RoleProcess[] = [];
  const prefix = uniqueName('pgfault');

  beforeAll(async () => {
    pg = new PrivatePostgres(await freePort());
    await pg.init();
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => stopRole(p, 'SIGKILL')));
    pg?.destroy();
    await deleteRedisPrefix(prefix);
  });

  const env = {
    DATABASE_URL: '', // set below
    JOB_ATTEMPTS: String(ATTEMPTS),
    JOB_BACKOFF_MS: String(BACKOFF_MS),
    DB_OUTAGE_MAX_BACKOFF_MS: '1000',
    JOB_LOCK_MS: '4000',
    JOB_STALLED_INTERVAL_MS: '2000',
    DATABASE_POOL_SIZE: '4',
    KEY_LOOKUPS_PER_IP: '0',
    REDIS_DURABILITY: 'none',
  };
  const start = async (role: 'api' | 'worker', wait: 'ready' | 'live' = 'ready') => {
    const p = await startRole(role, prefix, { ...env, DATABASE_URL: pg.url }, wait);
    procs.push(p);
    return p;
  };

  async function source(api: RoleProcess): Promise<{ id: string; writeKey: string }> {
    const key = (await (await fetch(`${api.url}/v1/admin/keys`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' }, body: '{"kind":"admin"}' })).json()) as { key: string };
    const res = await fetch(`${api.url}/v1/admin/sources`, { method: 'POST', headers: { Authorization: `Bearer ${key.key}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: uniqueName('pgf') }) });
    return (await res.json()) as { id: string; writeKey: string };
  }

  async function stored(sourceId: string): Promise<{ ids: Set<string>; total: number; letters: number }> {
    const rows = await pg.query<{ message_id: string }>('SELECT message_id FROM events WHERE source_id = $1', [sourceId]);
    const [{ n }] = await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM dead_letters WHERE source_id = $1', [sourceId]);
    return { ids: new Set(rows.map((r) => r.message_id)), total: rows.length, letters: n };
  }

  async function expectAllStoredOnce(sourceId: string, acked: Set<string>): Promise<void> {
    await waitForDrain(prefix, 240_000);
    const s = await stored(sourceId);
    const missing = [...acked].filter((id) => !s.ids.has(id));
    console.log(`  acknowledged ${acked.size}, stored ${s.total} (${s.ids.size} distinct), dead-lettered ${s.letters}, missing ${missing.length}`);
    expect(missing.slice(0, 5)).toEqual([]);
    expect(s.total).toBe(s.ids.size); // none twice
    expect(s.letters).toBe(0); // and no valid event dead-lettered
    expect((await queueState(prefix)).waiting).toBe(0);
  }

  it(`holds every acknowledged event through a ${OUTAGE_S}-s outage (retry budget ${BUDGET_S} s): all stored once, nothing dead-lettered`, async () => {
    const api = await start('api');
    const worker = await start('worker');
    const src = await source(api);
    const load = new Load(() => api.url, src.writeKey, { tag: 'pg' });
    await sleep(3000);
    pg.stop('immediate');
    const outageStart = Date.now();
    const seen = { apiReady: new Set<string>(), ready: new Set<number>(), available: new Set<number | null>(), live: new Set<number>(), ackedDuring: 0 };
    const before = load.acked.size;
    while (Date.now() - outageStart < OUTAGE_S * 1000) {
      seen.ready.add((await fetch(`${worker.url}/health/ready`)).status);
      // The api stays in the Service: it reports PostgreSQL down but keeps taking events.
      const ar = await fetch(`${api.url}/health/ready`);
      seen.apiReady.add(`${ar.status} postgres ${((await ar.json()) as { details?: { postgres?: { status?: string } } }).details?.postgres?.status}`);
      seen.live.add((await fetch(`${worker.url}/health/live`)).status);
      seen.available.add(await metric(worker.url, 'sluice_database_available'));
      await sleep(1000);
    }
    seen.ackedDuring = load.acked.size - before;
    pg.start();
    await sleep(3000);
    await load.stop();
    console.log(`  outage ${OUTAGE_S} s vs retry budget ${BUDGET_S} s; worker ready ${[...seen.ready]}, api ready ${[...seen.apiReady]}, live ${[...seen.live]}, sluice_database_available ${[...seen.available]}; ${seen.ackedDuring} events acknowledged during the outage; statuses ${JSON.stringify(Object.fromEntries(load.statuses))}`);
    expect(seen.live).toEqual(new Set([200]));
    expect(seen.ready.has(503)).toBe(true);
    expect(seen.apiReady.has('200 postgres down')).toBe(true);
    expect([...seen.apiReady].every((r) => r.startsWith('200'))).toBe(true);
    expect(seen.available.has(0)).toBe(true);
    expect(seen.ackedDuring).toBeGreaterThan(0); // the api kept accepting on its cached key
    await expectAllStoredOnce(src.id, load.acked);
    expect(await metric(worker.url, 'sluice_database_available')).toBe(1);
    expect(worker.proc.exitCode).toBeNull();
  });

  it('the same with the api and the worker SIGKILLed during the outage and restarted', async () => {
    let api = await start('api');
    let worker = await start('worker');
    const src = await source(api);
    const load = new Load(() => api.url, src.writeKey, { tag: 'pg' });
    await sleep(2000);
    pg.stop('immediate');
    await sleep((OUTAGE_S * 1000) / 3);
    await stopRole(api, 'SIGKILL');
    await stopRole(worker, 'SIGKILL');
    // Restarted while the database is still down: they come up (live, not ready).
    api = await start('api', 'live');
    worker = await start('worker', 'live');
    await sleep((OUTAGE_S * 1000) / 3);
    pg.start();
    await sleep(3000);
    await stopRole(worker, 'SIGKILL');
    worker = await start('worker');
    await sleep(2000);
    await load.stop();
    await expectAllStoredOnce(src.id, load.acked);
  });
});
