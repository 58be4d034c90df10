import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ADMIN_TOKEN } from '../support/app';
import { queueState, waitForDrain } from '../support/drain';
import { uniqueName } from '../support/env';
import { Load } from '../support/load';
import { pgBin, PrivatePostgres } from '../support/private-postgres';
import { RoleProcess, startRole, stopRole } from '../support/processes';
import { freePort } from '../support/redis-server';
import { deleteRedisPrefix } from '../support/redis';

// The backup/restore drill of docs/runbooks/backup-restore.md, for real: scripts/backup.sh taken
// from a private PostgreSQL while real api and worker processes keep ingesting, the database
// then lost (server crashed, data directory deleted), a new one created on the same port,
// scripts/restore.sh into it, and the worker started again on the restored database.
const EVENTS = Number(process.env.DRILL_EVENTS ?? 30_000);
const DAYS = Number(process.env.DRILL_DAYS ?? 40);
const ROOT = join(__dirname, '..', '..');
const DAY_MS = 86_400_000;

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const since = (t: number) => (Date.now() - t) / 1000;

interface ManifestEntry {
  name: string;
  rows: number;
  checksum: string;
}
interface Manifest {
  name: string;
  migrationHead: string;
  dump: { file: string; bytes: number };
  totals: { tables: number; partitions: number; rows: number };
  tables: ManifestEntry[];
  partitions: (ManifestEntry & { parent: string })[];
}

describe('backup/restore drill: backup under load, database lost, restore verified, backlog stored once', () => {
  let pg: PrivatePostgres;
  const procs: RoleProcess[] = [];
  const prefix = uniqueName('drill');
  const dir = mkdtempSync(join(tmpdir(), 'sluice-drill-'));
  // The scripts find pg_dump, pg_restore and psql of the same version as PrivatePostgres's server.
  const scriptEnv = (url: string) => ({ ...process.env, DATABASE_URL: url, PATH: `${dirname(pgBin('pg_dump'))}:${process.env.PATH ?? ''}` });

  afterAll(async () => {
    await Promise.all(procs.map((p) => stopRole(p, 'SIGKILL')));
    pg?.destroy();
    await deleteRedisPrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({ DATABASE_URL: pg.url, KEY_LOOKUPS_PER_IP: '0', API_RATE_LIMIT_RPS: '0', REDIS_DURABILITY: 'none', DB_OUTAGE_MAX_BACKOFF_MS: '1000', DATABASE_POOL_SIZE: '8' });
  const start = async (role: 'api' | 'worker') => {
    const p = await startRole(role, prefix, env());
    procs.push(p);
    return p;
  };
  const admin = (key: string) => ({ Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' });

  async function setUp(api: RoleProcess): Promise<{ id: string; writeKey: string }[]> {
    const key = (await (await fetch(`${api.url}/v1/admin/keys`, { method: 'POST', headers: admin(ADMIN_TOKEN), body: '{"kind":"admin"}' })).json()) as { key: string };
    const sources: { id: string; writeKey: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${api.url}/v1/admin/sources`, { method: 'POST', headers: admin(key.key), body: JSON.stringify({ name: uniqueName(`drill${i}`) }) });
      expect(res.status).toBe(201);
      sources.push((await res.json()) as { id: string; writeKey: string });
    }
    return sources;
  }

  const count = async (sql: string) => Number((await pg.query<{ n: string }>(sql))[0].n);
  /** message_id → how many rows hold it, over the drill's sources. */
  async function storedIds(): Promise<Map<string, number>> {
    const rows = await pg.query<{ m: string; n: number }>('SELECT message_id AS m, count(*)::int AS n FROM events GROUP BY 1');
    return new Map(rows.map((r) => [r.m, r.n]));
  }
  const rowsOf = (m: Manifest, table: string) => m.tables.find((t) => t.name === table)?.rows;

  it(`backs up ${EVENTS} events over ${DAYS} days during ingestion, restores them into a new database with 0 mismatches, and stores the backlog once`, async () => {
    pg = new PrivatePostgres(await freePort());
    await pg.init();
    const api = await start('api');
    let worker = await start('worker');
    const sources = await setUp(api);
    const now = Date.now();
    // Two sources under load, each event on one of DAYS days (one daily partition each).
    const loads = sources.slice(0, 2).map(
      (s, k) => new Load(() => api.url, s.writeKey, { tag: `drill${k}`, clients: 4, batchSize: 100, fields: (c, n, i) => ({ timestamp: new Date(now - ((n * 100 + i) % DAYS) * DAY_MS - c * 1000).toISOString() }) }),
    );
    const acked = () => loads.reduce((a, l) => a + l.acked.size, 0);
    // A dead letter, as the worker writes one for an event PostgreSQL refused.
    await pg.query(`INSERT INTO dead_letters (source_id, message_id, reason, reason_code, payload, payload_text) VALUES ($1, 'drill-letter', 'rejected by PostgreSQL: drill', 'rejected_by_postgres', $2::jsonb, $2)`, [
      sources[2].id,
      JSON.stringify({ s: sources[2].id, e: { type: 'track', event: 'Broken', messageId: 'drill-letter' } }),
    ]);
    while ((await count('SELECT count(*) AS n FROM events')) < EVENTS) await sleep(250);

    // 1. The backup, while both loads go on and the worker keeps writing.
    const storedAtBackupStart = await count('SELECT count(*) AS n FROM events');
    let t = Date.now();
    const backup = await run('bash', [join(ROOT, 'scripts/backup.sh'), '--dir', dir, '--keep', '0'], { env: scriptEnv(pg.url) });
    const backupSeconds = since(t);
    const storedAtBackupEnd = await count('SELECT count(*) AS n FROM events');
    const manifestPath = backup.stdout.trim();
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    const dumpBytes = statSync(join(dir, manifest.dump.file)).size;
    expect(dumpBytes).toBe(manifest.dump.bytes);
    const eventsInBackup = rowsOf(manifest, 'public.events')!;
    const eventPartitions = manifest.partitions.filter((p) => p.parent === 'public.events' && p.rows > 0);
    expect(eventsInBackup).toBeGreaterThanOrEqual(storedAtBackupStart);
    expect(eventsInBackup).toBeLessThanOrEqual(storedAtBackupEnd);
    expect(eventPartitions.length).toBeGreaterThanOrEqual(DAYS);
    expect(eventPartitions.reduce((a, p) => a + p.rows, 0)).toBe(eventsInBackup);
    expect(rowsOf(manifest, 'public.dead_letters')).toBe(1);
    expect(rowsOf(manifest, 'public.sources')).toBe(3);
    expect(rowsOf(manifest, 'public.api_keys')).toBeGreaterThanOrEqual(4); // an admin key and a write key per source

    // 2. The database is lost. The worker stops (as the runbook says: events wait in Redis);
    //    the api keeps accepting into Redis throughout.
    await stopRole(worker, 'SIGTERM');
    const beforeLoss = await storedIds(); // what the old database held when it was lost
    const ackedAtLoss = acked();
    pg.destroy(); // pg_ctl -m immediate, then the data directory deleted
    await sleep(1000);
    const apiReady = await fetch(`${api.url}/health/ready`);
    const apiPostgres = ((await apiReady.json()) as { details?: { postgres?: { status?: string } } }).details?.postgres?.status;

    // 3. A new, empty database on the same address, and the restore into it.
    pg = new PrivatePostgres(pg.port);
    await pg.init({ migrate: false });
    t = Date.now();
    const restore = await run('bash', [join(ROOT, 'scripts/restore.sh'), '--jobs', '4', manifestPath], { env: scriptEnv(pg.url) }).catch((err: { stdout?: string; stderr?: string }) => {
      throw new Error(`restore.sh failed:\n${err.stdout}\n${err.stderr}`);
    });
    const restoreWallSeconds = since(t);
    const figures = Object.fromEntries([...restore.stdout.matchAll(/(\w+)=([\d.]+)/g)].map((m) => [m[1], Number(m[2])]));
    const verdict = /(\d+) mismatches/.exec(restore.stdout);
    expect(restore.stdout).not.toMatch(/^MISMATCH/m);
    expect(verdict?.[1]).toBe('0');
    const ackedDuringLoss = acked() - ackedAtLoss;
    // Every event the manifest counts is there, and nothing else: the snapshot, to the row.
    const restored = await storedIds();
    expect([...restored.values()].reduce((a, n) => a + n, 0)).toBe(eventsInBackup);
    expect([...restored.keys()].filter((m) => !beforeLoss.has(m))).toEqual([]);
    expect(await count('SELECT count(*) AS n FROM dead_letters')).toBe(1);
    expect(await count('SELECT count(*) AS n FROM sources')).toBe(3);
    expect(await count(`SELECT count(*) AS n FROM migrations WHERE name = '${manifest.migrationHead}'`)).toBe(1);

    // 4. The worker again, on the restored database; the loads stop once it has caught up a little.
    worker = await start('worker');
    await sleep(2000);
    await Promise.all(loads.map((l) => l.stop()));
    await waitForDrain(prefix, 120_000);
    const final = await storedIds();
    const ackedIds = loads.flatMap((l) => [...l.acked]);
    // Accepted but not yet stored when the database was lost: they waited in Redis.
    const backlog = ackedIds.filter((m) => !beforeLoss.has(m));
    const backlogSet = new Set(backlog);
    const backlogStoredOnce = backlog.filter((m) => final.get(m) === 1).length;
    // Stored after the snapshot and before the loss: the recovery point of a logical backup.
    const lostAfterSnapshot = [...beforeLoss.keys()].filter((m) => !restored.has(m) && !final.has(m)).length;
    const twice = [...final.values()].filter((n) => n > 1).length;
    const letters = await count("SELECT count(*) AS n FROM dead_letters WHERE message_id <> 'drill-letter'");

    console.log(
      [
        `  drill: ${eventsInBackup} events in the backup over ${eventPartitions.length} daily partitions (${manifest.totals.partitions} partitions, ${manifest.totals.tables} tables, ${manifest.totals.rows} rows), migration ${manifest.migrationHead}`,
        `  backup: ${dumpBytes} dump bytes in ${backupSeconds.toFixed(2)} s while ingesting (${storedAtBackupEnd - storedAtBackupStart} events stored during it)`,
        `  restore: ${restoreWallSeconds.toFixed(2)} s for restore.sh (pg_restore -j ${figures.jobs} ${figures.restore_seconds} s, analyze ${figures.analyze_seconds} s, verification ${figures.verify_seconds} s): ${verdict?.[1]} mismatches`,
        `  loss: api ready ${apiReady.status} with postgres ${apiPostgres}; ${ackedDuringLoss} events acknowledged while the database was gone; ${lostAfterSnapshot} events stored after the snapshot were lost with the database (the recovery point)`,
        `  after restore: ${backlog.length} acknowledged events not in the lost database, ${backlogStoredOnce} stored exactly once; ${twice} message ids stored twice; ${letters} dead-lettered; ${final.size} events in all`,
      ].join('\n'),
    );
    expect(apiReady.status).toBe(200);
    expect(apiPostgres).toBe('down');
    expect(ackedDuringLoss).toBeGreaterThan(0);
    expect(backlog.length).toBeGreaterThan(0);
    expect(backlogStoredOnce).toBe(backlog.length);
    expect(twice).toBe(0);
    expect(letters).toBe(0);
    // Nothing but the restored snapshot and the backlog (or a lost event redelivered).
    expect([...final.keys()].filter((m) => !restored.has(m) && !backlogSet.has(m) && !beforeLoss.has(m))).toEqual([]);
    expect((await queueState(prefix)).waiting).toBe(0);
    expect(worker.proc.exitCode).toBeNull();
  });
});
