import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { ADMIN_TOKEN } from '../support/app';
import { queueState, waitForDrain } from '../support/drain';
import { testDatabaseUrl, uniqueName } from '../support/env';
import { Load, metric } from '../support/load';
import { RoleProcess, startRole, stopRole } from '../support/processes';
import { freePort, PrivateRedis } from '../support/redis-server';
import { rng } from '../../bench/lib/random';

// Redis SIGKILLed and restarted from its AOF, again and again, under load from clients that
// retry every batch until they get a 200, while another process keeps the disk busy with
// fsyncs. Every acknowledged event must be stored, once, and come through in seconds.
const KILLS = Number(process.env.FAULT_REDIS_KILLS ?? 20);
const APPENDFSYNC = process.env.FAULT_REDIS_APPENDFSYNC ?? 'always';
const DURABILITY = process.env.FAULT_REDIS_DURABILITY ?? 'fsync';
const SEED = Number(process.env.FAULT_SEED ?? 17);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


/**
 * Watches the events table from outside: when each acknowledged batch's last event first shows
 * up, and the longest stretch in which nothing new arrived while batches were outstanding.
 */
class Arrivals {
  readonly delays: number[] = [];
  longestSilenceMs = 0;
  private readonly seen = new Set<string>();
  private running = true;
  private readonly loop: Promise<void>;
  private db = new Client({ connectionString: testDatabaseUrl() });

  constructor(private readonly sourceId: string, private readonly load: Load) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    await this.db.connect();
    let lastProgress = Date.now();
    while (this.running) {
      await this.poll(() => (lastProgress = Date.now()));
      const outstanding = [...this.load.ackedAt.keys()].some((id) => !this.seen.has(id));
      if (!outstanding) lastProgress = Date.now();
      this.longestSilenceMs = Math.max(this.longestSilenceMs, Date.now() - lastProgress);
      await sleep(200);
    }
  }

  async poll(onProgress: () => void = () => {}): Promise<void> {
    const pending = [...this.load.ackedAt.keys()].filter((id) => !this.seen.has(id));
    if (pending.length === 0) return;
    const { rows } = await this.db.query<{ message_id: string }>('SELECT message_id FROM events WHERE source_id = $1 AND message_id = ANY($2)', [this.sourceId, pending]);
    const now = Date.now();
    for (const { message_id } of rows) {
      this.seen.add(message_id);
      this.delays.push(now - this.load.ackedAt.get(message_id)!);
    }
    if (rows.length > 0) onProgress();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.poll();
    await this.db.end();
  }
}

describe(`Redis SIGKILLed ${KILLS} times under load with a busy disk (appendfsync ${APPENDFSYNC}, REDIS_DURABILITY=${DURABILITY})`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-redis-aof-'));
  let redis: PrivateRedis;
  let disk: ChildProcess | null = null;
  const procs: RoleProcess[] = [];
  const prefix = uniqueName('redisfault');
  const db = new Client({ connectionString: testDatabaseUrl() });

  beforeAll(async () => {
    redis = new PrivateRedis(await freePort(), ['--save', '', '--appendonly', 'yes', '--appendfsync', APPENDFSYNC, '--maxmemory-policy', 'noeviction', '--dir', dir]);
    await redis.start();
    await db.connect();
  });
  afterAll(async () => {
    disk?.kill('SIGKILL');
    await Promise.all(procs.map((p) => stopRole(p, 'SIGKILL')));
    await redis?.stop();
    await db.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores every acknowledged event once, none dead-lettered, and reports the worst delay', async () => {
    const env = { REDIS_URL: redis.url, REDIS_DURABILITY: DURABILITY, KEY_LOOKUPS_PER_IP: '0', DATABASE_POOL_SIZE: '4' };
    const api = await startRole('api', prefix, env);
    const worker = await startRole('worker', prefix, env);
    procs.push(api, worker);
    const key = (await (await fetch(`${api.url}/v1/admin/keys`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' }, body: '{"kind":"admin"}' })).json()) as { key: string };
    const src = (await (await fetch(`${api.url}/v1/admin/sources`, { method: 'POST', headers: { Authorization: `Bearer ${key.key}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: uniqueName('rf') }) })).json()) as { id: string; writeKey: string };

    // The disk stays busy with synchronous writes beside Redis's AOF, as in the run that lost data.
    disk = spawn('bash', ['-c', `while :; do dd if=/dev/zero of=${join(dir, 'busy')} bs=1M count=32 conv=fsync status=none; done`], { stdio: 'ignore' });

    const load = new Load(() => api.url, src.writeKey, { tag: 'rk' });
    const arrivals = new Arrivals(src.id, load);
    const random = rng(SEED);
    await sleep(2000);
    const killedAt: number[] = [];
    for (let i = 0; i < KILLS; i++) {
      await sleep(600 + random() * 1400);
      await redis.stop(); // SIGKILL
      killedAt.push(Date.now());
      await sleep(100 + random() * 700);
      await redis.start(); // reloads the AOF
    }
    await sleep(3000);
    await load.stop();
    disk.kill('SIGKILL');
    disk = null;
    const state = await waitForDrain(prefix, 180_000, redis.url);
    await arrivals.stop();

    const { rows } = await db.query<{ message_id: string }>('SELECT message_id FROM events WHERE source_id = $1', [src.id]);
    const ids = new Set(rows.map((r) => r.message_id));
    const [{ n: letters }] = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM dead_letters WHERE source_id = $1', [src.id])).rows;
    const missing = [...load.acked].filter((id) => !ids.has(id));
    const worst = Math.max(...arrivals.delays);
    const sorted = [...arrivals.delays].sort((a, b) => a - b);
    const stalled = await metric(worker.url, 'sluice_jobs_stalled_total');
    const orphaned = await metric(worker.url, 'sluice_jobs_orphaned_total');
    console.log(
      [
        `  ${KILLS} Redis SIGKILLs (appendfsync ${APPENDFSYNC}, REDIS_DURABILITY=${DURABILITY}, seed ${SEED}): acknowledged ${load.acked.size}, stored ${rows.length} (${ids.size} distinct), dead-lettered ${letters}, missing ${missing.length}`,
        `  delay from 200 to stored, per batch: p50 ${sorted[Math.floor(sorted.length / 2)]} ms, p99 ${sorted[Math.floor(sorted.length * 0.99)]} ms, worst ${worst} ms; longest silence with batches outstanding ${arrivals.longestSilenceMs} ms; jobs put back on reconnect ${orphaned}, recovered by the stalled check ${stalled}`,
        `  statuses ${JSON.stringify(Object.fromEntries(load.statuses))}; queue at the end ${JSON.stringify(state)}`,
      ].join('\n'),
    );
    expect(missing.slice(0, 5)).toEqual([]);
    expect(rows.length).toBe(ids.size); // none twice
    expect(letters).toBe(0);
    expect(load.acked.size).toBeGreaterThan(0);
    expect((await queueState(prefix, redis.url)).active).toBe(0);
    expect(api.proc.exitCode).toBeNull();
    expect(worker.proc.exitCode).toBeNull();
  });
});
