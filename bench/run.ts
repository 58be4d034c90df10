/**
 * `npm run bench` — Sluice beside its baselines, measured in one run on this machine.
 *
 *   npm run bench                        every scenario; writes bench/results/latest.json
 *   npm run bench -- batch               one scenario: batch | plan | live | single | latency | scaleout | tracing | memory | queries | costcurve
 *   npm run bench -- --smoke             a few seconds each, for CI (exits 1 when the harness breaks)
 *   npm run bench -- batch --profile     api and worker under node --cpu-prof; summarises the profiles
 *                                        (bench/results/profile.json; .cpuprofile files in a temp dir)
 *   options: --duration <s>  --out <file>  --set KEY=VALUE (Sluice env, repeatable)  --keep (logs too)  --latency-rate <ev/s>
 *            --redis-fsync  a private Redis with appendfsync always and REDIS_DURABILITY=fsync
 *                           (default: the shared Redis, which keeps nothing on disk, and `none`)
 *
 * See docs/performance.md for what each scenario measures and how.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { connectCopyClients, copyBaseline, CopyResult } from './lib/copy';
import { BodyFactory, eventBytes } from './lib/events';
import { LoadResult, runAutocannon, runPaced } from './lib/load';
import { PgCounters, pgCounters, pgDelta, pgPids, statementBreakdown, StatementBreakdown } from './lib/pg-view';
import { findProfile, ProfileSummary, summariseProfile } from './lib/profile';
import { histogramDelta, histogramQuantile, Scrape, scrape, sumOf } from './lib/prom';
import { Machine, machineInfo, printGrid, printTable, Row } from './lib/report';
import { QueriesOutcome, scenarioQueries } from './queries';
import { seed } from './seed';
import { benchPlanRules } from './lib/plan';
import { startOtlpSink } from './lib/otlp-sink';
import { probeQueries, QueryProbeResult } from './lib/query-probe';
import { CpuAccounting, CpuSnapshot, round, RssSampler } from './lib/sampling';
import {
  createDatabase,
  credentials,
  databaseUrl,
  deleteRedisPrefix,
  dropDatabase,
  freePort,
  Managed,
  migrate,
  randomToken,
  redisInfo,
  REDIS_URL,
  startFsyncRedis,
  ROOT,
  sleep,
  SourceCredentials,
  waitReady,
} from './lib/stack';

const SCENARIOS = ['batch', 'plan', 'live', 'single', 'latency', 'scaleout', 'tracing', 'memory', 'queries', 'costcurve'] as const;
type Scenario = (typeof SCENARIOS)[number];

interface Options {
  scenarios: Scenario[];
  all: boolean;
  smoke: boolean;
  profile: boolean;
  keep: boolean;
  redisFsync: boolean;
  out: string | null;
  set: Record<string, string>;
  duration: number;
  /** V8 flags of the api process, as deployed ('' for V8's own defaults). */
  apiNodeOptions: string;
  /** events/s the latency scenario offers, instead of half the measured maximum (to compare settings at one load) */
  latencyRate: number | null;
}

/** The api's heap as the chart (api.nodeOptions) and docker-compose.yml size it (docs/performance.md, Memory). */
const DEPLOYED_API_NODE_OPTIONS = '--max-old-space-size=192 --max-semi-space-size=32';

function parseArgs(argv: string[]): Options {
  const o: Options = { scenarios: [], all: false, smoke: false, profile: false, keep: false, redisFsync: false, out: null, set: {}, duration: 20, apiNodeOptions: DEPLOYED_API_NODE_OPTIONS, latencyRate: null };
  let durationGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--smoke') o.smoke = true;
    else if (a === '--profile') o.profile = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--redis-fsync') o.redisFsync = true;
    else if (a === '--out') o.out = argv[++i];
    else if (a === '--api-node-options') o.apiNodeOptions = argv[++i] ?? '';
    else if (a === '--latency-rate') {
      o.latencyRate = Number(argv[++i]);
      if (!(o.latencyRate >= 100)) throw new Error('--latency-rate needs events per second (at least 100)');
    }
    else if (a === '--duration') {
      o.duration = Number(argv[++i]);
      durationGiven = true;
      if (!(o.duration > 0)) throw new Error('--duration needs a number of seconds');
    } else if (a === '--set') {
      const [k, ...v] = (argv[++i] ?? '').split('=');
      if (!k || v.length === 0) throw new Error('--set needs KEY=VALUE');
      o.set[k] = v.join('=');
    } else if ((SCENARIOS as readonly string[]).includes(a)) o.scenarios.push(a as Scenario);
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm run bench -- [batch|plan|live|single|latency|scaleout|tracing|memory|queries|costcurve ...] [--smoke] [--profile] [--duration s] [--out file] [--set KEY=VALUE] [--api-node-options "V8 flags"] [--latency-rate ev/s] [--keep] [--redis-fsync]');
      process.exit(0);
    } else throw new Error(`unknown argument "${a}" (try --help)`);
  }
  o.all = o.scenarios.length === 0;
  if (o.all) o.scenarios = [...SCENARIOS];
  if (o.smoke && !durationGiven) o.duration = 3;
  return o;
}

/** Durations and connection counts, derived from --duration (20 s by default, 3 s in smoke mode). */
function plan(o: Options) {
  const d = o.duration;
  return {
    batchSeconds: d,
    batchConnections: o.smoke ? 4 : 10,
    copySeconds: Math.max(1, d / 2), // before and after the Sluice run
    copyRowsPerBatch: 2000,
    singleSeconds: d,
    singleConnections: o.smoke ? 8 : 50,
    bareSeconds: Math.max(1, d / 2), // before and after the Sluice run
    latencySeconds: d,
    latencyConnections: 16,
    stallSeconds: o.smoke ? 15 : 30,
    pgIterations: o.smoke ? 3 : 12,
  };
}

// ---------------------------------------------------------------------------------------------

interface PhaseRecord {
  name: string;
  from: number;
  to: number;
  seconds: number;
  events: number;
  cpuSeconds: Record<string, number>;
  /** CPU microseconds per event (or per COPY row / request) by component */
  cpuUsPerEvent: Record<string, number>;
  /** share of the machine's CPU capacity that was busy (all processes, ours and others) */
  machineBusy: number;
  /** CPU seconds the hypervisor gave to other guests while we wanted them */
  stealSeconds: number;
  pg: PgCounters;
  /** from the api's and worker's /metrics, for phases that drive Sluice */
  sluice?: SluiceStats;
}

interface SluiceStats {
  jobs: number;
  eventsPerJob: number;
  statementMsMean: number;
  /** seconds of insert statements in flight per second of the phase (up to WORKER_CONCURRENCY) */
  statementsInFlight: number;
  lagSeconds: { p50: number | null; p99: number | null; count: number };
  enqueueMsMean: number;
  addBulkCalls: number;
  /** server-side request duration of 200s (api's histogram, bucket-interpolated) */
  serverMs: { p50: number | null; p99: number | null };
  memoryAtEnd: Record<string, { rss: number; heapUsed: number; heapTotal: number; external: number }>;
}

const q4 = (v: number | null) => (v === null ? null : round(v, 4));

function sluiceStats(a0: Scrape, a1: Scrape, w0: Scrape, w1: Scrape, seconds: number, events: number): SluiceStats {
  const dbw = histogramDelta(w0, w1, 'sluice_db_write_duration_seconds');
  const lag = histogramDelta(w0, w1, 'sluice_end_to_end_lag_seconds');
  const enq = histogramDelta(a0, a1, 'sluice_enqueue_duration_seconds');
  const http = histogramDelta(a0, a1, 'http_request_duration_seconds', (l) => l.route?.startsWith('/v1/') && l.status_code === '200');
  const mem = (s: Scrape) => ({
    rss: sumOf(s, 'process_resident_memory_bytes'),
    heapUsed: sumOf(s, 'nodejs_heap_size_used_bytes'),
    heapTotal: sumOf(s, 'nodejs_heap_size_total_bytes'),
    external: sumOf(s, 'nodejs_external_memory_bytes'),
  });
  return {
    jobs: dbw.count,
    eventsPerJob: dbw.count ? round(events / dbw.count, 1) : 0,
    statementMsMean: dbw.count ? round((dbw.sum / dbw.count) * 1000, 2) : 0,
    statementsInFlight: seconds > 0 ? round(dbw.sum / seconds, 2) : 0,
    lagSeconds: { p50: q4(histogramQuantile(lag, 0.5)), p99: q4(histogramQuantile(lag, 0.99)), count: lag.count },
    enqueueMsMean: enq.count ? round((enq.sum / enq.count) * 1000, 2) : 0,
    addBulkCalls: enq.count,
    serverMs: { p50: q4((histogramQuantile(http, 0.5) ?? NaN) * 1000), p99: q4((histogramQuantile(http, 0.99) ?? NaN) * 1000) },
    memoryAtEnd: { api: mem(a1), worker: mem(w1) },
  };
}

class Harness {
  readonly failures: string[] = [];
  readonly notes: string[] = [];
  readonly phases: PhaseRecord[] = [];
  api!: Managed;
  worker!: Managed;
  bare: Managed | null = null;
  monitor!: Client;
  rss!: RssSampler;
  cpu!: CpuAccounting;
  sources!: (name: string) => Promise<SourceCredentials>;
  adminKey = '';
  redisPid = 0;
  privateRedis: { url: string; stop(): Promise<void> } | null = null;

  constructor(
    readonly opts: Options,
    readonly runDir: string,
    /** the database Sluice runs on: the run's own, or the seeded clone of the costcurve scenario */
    public dbName: string,
  ) {}

  get dbUrl(): string {
    return databaseUrl(this.dbName);
  }

  check(ok: boolean, failure: string): void {
    if (!ok) {
      this.failures.push(failure);
      console.error(`  ! ${failure}`);
    }
  }

  assertAlive(): void {
    for (const p of [this.api, this.worker, this.bare, ...this.extraApis, ...this.extraWorkers]) {
      const crash = p?.crashed;
      if (crash) throw new Error(crash);
    }
  }

  /** Runs fn as a named phase: RSS peaks, CPU per component and PostgreSQL counters are kept per phase. */
  async phase<T>(name: string, fn: () => Promise<T>, events: (r: T) => number, drivesSluice = false): Promise<{ result: T; record: PhaseRecord }> {
    this.assertAlive();
    this.rss.phase = name;
    const [a0, w0] = drivesSluice ? await Promise.all([scrape(this.api.url), scrape(this.worker.url)]) : [[], []];
    const pg0 = await pgCounters(this.monitor);
    const cpu0: CpuSnapshot = await this.cpu.snapshot();
    const from = Date.now();
    let result: T;
    try {
      result = await fn();
    } finally {
      this.rss.sample();
      this.rss.phase = 'between phases';
    }
    const to = Date.now();
    const cpu1 = await this.cpu.snapshot();
    const pg1 = await pgCounters(this.monitor);
    const [a1, w1] = drivesSluice ? await Promise.all([scrape(this.api.url), scrape(this.worker.url)]) : [[], []];
    const n = events(result);
    const { cpu, stealSeconds } = CpuAccounting.delta(cpu0, cpu1);
    const perEvent: Record<string, number> = {};
    let busy = 0;
    for (const [k, v] of Object.entries(cpu)) {
      perEvent[k] = n > 0 ? round((v * 1e6) / n, 1) : 0;
      busy += v;
    }
    const seconds = (to - from) / 1000;
    const record: PhaseRecord = {
      name,
      from,
      to,
      seconds: round(seconds, 2),
      events: n,
      cpuSeconds: cpu,
      cpuUsPerEvent: perEvent,
      machineBusy: round(busy / (seconds * os.cpus().length), 2),
      stealSeconds,
      pg: pgDelta(pg0, pg1),
      ...(drivesSluice ? { sluice: sluiceStats(a0, a1, w0, w1, seconds, n) } : {}),
    };
    this.phases.push(record);
    this.assertAlive();
    return { result, record };
  }

  sluiceSpawn!: { env: NodeJS.ProcessEnv; ports: { api: number; worker: number }; args: (role: 'api' | 'worker') => string[] };

  /**
   * Starts the api and the worker, or restarts them with `extra` settings (the tracing scenario):
   * same ports, database and Redis prefix, so keys and sources stay valid.
   */
  async startSluice(extra: Record<string, string> = {}, logSuffix = ''): Promise<void> {
    await this.stopSluice();
    const { env, ports, args } = this.sluiceSpawn;
    const settings = { ...env, ...this.opts.set, ...extra };
    this.api = new Managed('api', args('api'), { ...settings, ROLE: 'api', PORT: String(ports.api), RATE_LIMIT_RPS: '0', RATE_LIMIT_EPS: '0' }, join(this.runDir, `api${logSuffix}.log`), `http://127.0.0.1:${ports.api}`);
    this.worker = new Managed('worker', args('worker'), { ...settings, ROLE: 'worker', PORT: String(ports.worker) }, join(this.runDir, `worker${logSuffix}.log`), `http://127.0.0.1:${ports.worker}`);
    await Promise.all([waitReady(this.api), waitReady(this.worker)]);
  }

  /** More api and worker processes beside the first pair (the scaleout scenario), same settings. */
  readonly extraApis: Managed[] = [];
  readonly extraWorkers: Managed[] = [];

  async startExtras(pairs: number): Promise<void> {
    const { env, args } = this.sluiceSpawn;
    const settings = { ...env, ...this.opts.set };
    for (let i = 0; i < pairs; i++) {
      const [apiPort, workerPort] = [await freePort(), await freePort()];
      const n = this.extraApis.length + 2;
      this.extraApis.push(new Managed(`api-${n}`, args('api'), { ...settings, ROLE: 'api', PORT: String(apiPort), RATE_LIMIT_RPS: '0', RATE_LIMIT_EPS: '0' }, join(this.runDir, `api-${n}.log`), `http://127.0.0.1:${apiPort}`));
      this.extraWorkers.push(new Managed(`worker-${n}`, args('worker'), { ...settings, ROLE: 'worker', PORT: String(workerPort) }, join(this.runDir, `worker-${n}.log`), `http://127.0.0.1:${workerPort}`));
    }
    await Promise.all([...this.extraApis, ...this.extraWorkers].map((x) => waitReady(x)));
  }

  async stopExtras(): Promise<void> {
    await Promise.all([...this.extraApis, ...this.extraWorkers].map((x) => x.stop(15_000)));
    this.extraApis.length = 0;
    this.extraWorkers.length = 0;
  }

  /** SIGTERM to both (they drain, and flush their spans); a no-op before the first start. */
  async stopSluice(): Promise<void> {
    await Promise.all([this.api?.stop(15_000), this.worker?.stop(15_000)]);
  }

  async checkpoint(): Promise<void> {
    // Neither side inherits the other's dirty buffers; a checkpoint still lands in any longer run.
    await this.monitor.query('CHECKPOINT').catch((err: Error) => this.notes.push(`CHECKPOINT failed: ${err.message}`));
  }

  async countEvents(sourceId: string): Promise<number> {
    const { rows } = await this.monitor.query('SELECT count(*)::int AS n FROM events WHERE source_id = $1', [sourceId]);
    return rows[0].n as number;
  }

  /** The workers' count of events they have committed (sluice_events_persisted_total). */
  async persistedByWorker(): Promise<number> {
    const scrapes = await Promise.all([this.worker, ...this.extraWorkers].map((w) => scrape(w.url)));
    return scrapes.reduce((sum, sc) => sum + sumOf(sc, 'sluice_events_persisted_total'), 0);
  }

  /**
   * Waits until the source holds at least the `accepted` events and the count has settled
   * (requests cut off when the load generator stops may still have been queued: up to
   * `maxExtra` more events), or until it stops growing. The worker's committed-events counter
   * (cheap to read) is polled every 100 ms to time the last commit; PostgreSQL's count(*) (slow
   * on a large table under load) is the figure and the check. `base` is the worker's counter
   * before the load started.
   */
  async waitPersisted(sourceId: string, accepted: number, maxExtra: number, base: number, settleMs = 1000): Promise<{ count: number; lastCommitAt: number; pgCountMsMax: number }> {
    const stallMs = plan(this.opts).stallSeconds * 1000;
    let worker = -1;
    let lastChange = Date.now();
    let count = 0;
    let lastCount = 0;
    let pgCountMsMax = 0;
    for (;;) {
      this.assertAlive();
      const t = Date.now();
      const w = (await this.persistedByWorker()) - base;
      if (w !== worker) {
        worker = w;
        lastChange = t;
      }
      const settled = Date.now() - lastChange >= settleMs;
      if (worker >= accepted && (settled || worker >= accepted + maxExtra)) {
        const t0 = Date.now();
        count = await this.countEvents(sourceId);
        pgCountMsMax = Math.max(pgCountMsMax, Date.now() - t0);
        if (count >= worker) return { count, lastCommitAt: lastChange, pgCountMsMax };
      }
      if (Date.now() - lastChange > stallMs) {
        count = await this.countEvents(sourceId);
        if (count === lastCount) return { count, lastCommitAt: lastChange, pgCountMsMax };
        lastCount = count;
        lastChange = Date.now(); // PostgreSQL still sees progress the counter does not: keep waiting
      }
      await sleep(100);
    }
  }

  /** Stored events must be the accepted ones, plus at most those of requests cut off at the end. */
  checkStored(label: string, stored: number, accepted: number, maxExtra: number): void {
    this.check(stored > 0, `${label}: no events stored`);
    this.check(stored >= accepted && stored <= accepted + maxExtra, `${label}: ${stored} events stored, ${accepted} accepted (+ at most ${maxExtra} from requests cut off at the end)`);
  }

  writeHeaders(writeKey: string): Record<string, string> {
    return { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` };
  }

  checkLoad(label: string, r: LoadResult): void {
    this.check(r.ok > 0, `${label}: no successful request`);
    this.check(r.non2xx === 0, `${label}: ${r.non2xx} non-2xx responses ${JSON.stringify(r.statusCodes)}; e.g. ${r.sampleErrors[0] ?? ''}`);
    this.check(r.errors === 0, `${label}: ${r.errors} request errors (${r.timeouts} timeouts); e.g. ${r.sampleErrors[0] ?? ''}`);
    this.check(r.rejected === 0, `${label}: ${r.rejected} events rejected; e.g. ${r.sampleErrors[0] ?? ''}`);
  }

  async startBare(): Promise<Managed> {
    if (this.bare && !this.bare.exit) return this.bare;
    const port = await freePort();
    const bare = new Managed(
      'bare-fastify',
      ['-r', 'ts-node/register/transpile-only', join(ROOT, 'bench', 'bare-fastify.ts'), String(port)],
      { ...process.env, NODE_ENV: 'production' },
      join(this.runDir, 'bare-fastify.log'),
      `http://127.0.0.1:${port}`,
    );
    this.bare = bare;
    await waitReady(bare, 60_000);
    return bare;
  }
}

// ---------------------------------------------------------------------------------------------

interface BatchOutcome {
  eventsPerSecond: number;
  /** the slowest count(*) of the source's events at the end */
  pgCountMsMax: number;
  persisted: number;
  accepted: number;
  secondsToLastCommit: number;
  apiAcceptedPerSecond: number;
  load: LoadResult;
  copy: CopyResult[];
  copyRowsPerSecond: number;
  ratio: number;
  sluice: SluiceStats;
  pgPerEvent: { walBytes: number; walBytesCopy: number };
  breakdown?: StatementBreakdown;
}

async function scenarioBatch(h: Harness, tag: string, opts: { withBaseline: boolean; seconds?: number; label?: string; source?: SourceCredentials }): Promise<BatchOutcome> {
  const p = plan(h.opts);
  const label = opts.label ?? 'batch';
  const copies: CopyResult[] = [];
  const copyPhase = async (n: number) => {
    await h.checkpoint();
    const clients = await connectCopyClients(h.dbUrl, 2);
    const { result } = await h.phase(`${label}-copy-${n}`, () => copyBaseline(clients, { seconds: p.copySeconds, rowsPerBatch: p.copyRowsPerBatch, tag: `${tag}-copy${n}` }), (r) => r.rows).finally(() =>
      Promise.all(clients.map((c) => c.end().catch(() => undefined))),
    );
    const stored = await h.countEvents(result.sourceId);
    h.check(stored === result.rows, `COPY baseline: ${stored} rows stored, ${result.rows} copied`);
    copies.push(result);
    console.log(`  COPY baseline #${n}: ${result.rows.toLocaleString('en-US')} rows in ${result.seconds.toFixed(1)} s = ${result.rowsPerSecond.toLocaleString('en-US')} rows/s`);
  };

  if (opts.withBaseline) await copyPhase(1);

  await h.checkpoint();
  const src = opts.source ?? (await h.sources(`bench-${label}`));
  const bodies = BodyFactory.batch(`${tag}-${label}`, 100);
  const { result: sluice, record } = await h.phase(
    label,
    async () => {
      const base = await h.persistedByWorker();
      const load = await runAutocannon({
        url: h.api.url,
        path: '/v1/batch',
        headers: h.writeHeaders(src.writeKey),
        body: () => bodies.next(),
        connections: p.batchConnections,
        durationSeconds: opts.seconds ?? p.batchSeconds,
        countAccepted: true,
      });
      const persisted = await h.waitPersisted(src.id, load.accepted, p.batchConnections * 100, base);
      return { load, ...persisted };
    },
    (r) => r.count,
    true,
  );
  const { load } = sluice;
  const st = record.sluice!;
  h.checkLoad(`${label} (POST /v1/batch)`, load);
  h.checkStored(label, sluice.count, load.accepted, p.batchConnections * 100);
  const secondsToLastCommit = (sluice.lastCommitAt - load.startedAt) / 1000;
  const eventsPerSecond = Math.round(sluice.count / secondsToLastCommit);
  console.log(
    `  Sluice: ${load.accepted.toLocaleString('en-US')} events accepted in ${load.elapsedSeconds.toFixed(1)} s (${Math.round(load.accepted / load.elapsedSeconds).toLocaleString('en-US')}/s at the api), ` +
      `${sluice.count.toLocaleString('en-US')} persisted by ${secondsToLastCommit.toFixed(1)} s = ${eventsPerSecond.toLocaleString('en-US')} events/s end to end`,
  );

  if (opts.withBaseline) await copyPhase(2);

  const copyRows = copies.reduce((s, c) => s + c.rows, 0);
  const copySecs = copies.reduce((s, c) => s + c.seconds, 0);
  const copyRowsPerSecond = copySecs > 0 ? Math.round(copyRows / copySecs) : 0;
  const copyRecords = h.phases.filter((ph) => ph.name.startsWith(`${label}-copy-`));
  const copyWal = copyRecords.reduce((s, r) => s + r.pg.walBytes, 0) / Math.max(1, copyRecords.reduce((s, r) => s + r.events, 0));
  console.log(
    `  worker: ${st.jobs} insert statements of ${Math.round(st.eventsPerJob)} events, ${st.statementMsMean} ms each on average (${st.statementsInFlight} in flight); ` +
      `WAL per event ${Math.round(record.pg.walBytes / Math.max(1, sluice.count))} bytes (COPY: ${Math.round(copyWal)}); checkpoints during the run: ${record.pg.checkpoints}`,
  );
  return {
    eventsPerSecond,
    pgCountMsMax: sluice.pgCountMsMax,
    persisted: sluice.count,
    accepted: load.accepted,
    secondsToLastCommit: round(secondsToLastCommit, 2),
    apiAcceptedPerSecond: Math.round(load.accepted / load.elapsedSeconds),
    load,
    copy: copies,
    copyRowsPerSecond,
    ratio: copyRowsPerSecond ? round(eventsPerSecond / copyRowsPerSecond, 3) : 0,
    sluice: st,
    pgPerEvent: { walBytes: Math.round(record.pg.walBytes / Math.max(1, sluice.count)), walBytesCopy: Math.round(copyWal) },
  };
}

async function scenarioPlan(h: Harness, tag: string, adminKey: string, without: BatchOutcome): Promise<PlanOutcome> {
  const src = await h.sources('bench-plan');
  const rules = benchPlanRules();
  const headers = { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' };
  const created = await fetch(`${h.api.url}/v1/admin/tracking-plans`, { method: 'POST', headers, body: JSON.stringify({ name: 'bench', rules }) });
  const plan = (await created.json()) as { id?: string };
  if (created.status !== 201 || !plan.id) throw new Error(`POST /v1/admin/tracking-plans answered ${created.status}: ${JSON.stringify(plan)}`);
  const attached = await fetch(`${h.api.url}/v1/admin/sources/${src.id}/tracking-plan`, { method: 'PUT', headers, body: JSON.stringify({ planId: plan.id, onUnplanned: 'flag', onViolation: 'flag' }) });
  if (attached.status !== 200) throw new Error(`attaching the bench plan answered ${attached.status}: ${await attached.text()}`);
  // Runs without a plan right before and after, on sources of their own: the first minutes of a
  // run are slower (caches, JIT), so only neighbouring runs compare fairly.
  const before = await scenarioBatch(h, tag, { withBaseline: false, label: 'plan-off-1' });
  const withPlan = await scenarioBatch(h, tag, { withBaseline: false, label: 'plan', source: src });
  const after = await scenarioBatch(h, tag, { withBaseline: false, label: 'plan-off-2' });
  const offPerSecond = Math.round((before.eventsPerSecond + after.eventsPerSecond) / 2);
  const flagged = Number((await h.monitor.query(`SELECT count(*) AS n FROM events WHERE source_id = $1 AND violations IS NOT NULL`, [src.id])).rows[0].n);
  h.check(flagged === 0, `plan: ${flagged} bench events violated the bench plan (it should describe them all)`);
  const copy = without.copyRowsPerSecond;
  const ratio = copy ? round(withPlan.eventsPerSecond / copy, 3) : 0;
  const ratioWithout = copy ? round(offPerSecond / copy, 3) : 0;
  const relative = offPerSecond ? round(withPlan.eventsPerSecond / offPerSecond, 3) : 0;
  console.log(`  with the plan: ${withPlan.eventsPerSecond.toLocaleString('en-US')} events/s (batch ratio ${ratio}) vs ${offPerSecond.toLocaleString('en-US')} without (mean of ${before.eventsPerSecond} before and ${after.eventsPerSecond} after; ${ratioWithout}): ${relative}x`);
  return { ratio, ratioWithout, eventsPerSecond: withPlan.eventsPerSecond, eventsPerSecondWithout: offPerSecond, relative, flagged, rules: (rules.rules as unknown[]).length };
}

interface LiveOutcome {
  /** events persisted/s of the batch load with one live listener on its source */
  eventsPerSecond: number;
  /** the same load without any listener (mean of the runs right before and after) */
  eventsPerSecondWithout: number;
  /** with / without */
  relative: number;
  /** what the listener received: event frames, and the events skipped frames counted */
  received: number;
  skipped: number;
}

/**
 * The live debugger's cost to ingestion: the batch load with nobody listening (before and after,
 * on sources of their own) and with one listener connected to the loaded source (GET
 * /v1/sources/:id/live, read as a stream the way the console does), sampled to
 * LIVE_MAX_EVENTS_PER_SECOND.
 */
async function scenarioLive(h: Harness, tag: string, adminKey: string): Promise<LiveOutcome> {
  const src = await h.sources('bench-live');
  const before = await scenarioBatch(h, tag, { withBaseline: false, label: 'live-off-1' });
  const abort = new AbortController();
  const res = await fetch(`${h.api.url}/v1/sources/${src.id}/live`, { headers: { Authorization: `Bearer ${adminKey}` }, signal: abort.signal });
  if (res.status !== 200 || !res.body) throw new Error(`GET /v1/sources/<id>/live answered ${res.status}: ${await res.text()}`);
  let received = 0;
  let skipped = 0;
  const reading = (async () => {
    let buf = '';
    try {
      for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
        buf += chunk;
        let at: number;
        while ((at = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, at);
          buf = buf.slice(at + 2);
          if (frame.includes('\nevent: event\n')) received++;
          const m = /^event: skipped\ndata: \{"count":(\d+)\}/.exec(frame);
          if (m) skipped += Number(m[1]);
        }
      }
    } catch {
      // aborted below
    }
  })();
  let withListener: BatchOutcome;
  try {
    withListener = await scenarioBatch(h, tag, { withBaseline: false, label: 'live', source: src });
    await sleep(1500); // the last skipped count
  } finally {
    abort.abort();
    await reading;
  }
  const after = await scenarioBatch(h, tag, { withBaseline: false, label: 'live-off-2' });
  h.check(received > 0, 'live: the listener received no event during the load');
  const offPerSecond = Math.round((before.eventsPerSecond + after.eventsPerSecond) / 2);
  const relative = offPerSecond ? round(withListener.eventsPerSecond / offPerSecond, 3) : 0;
  console.log(`  with one listener: ${withListener.eventsPerSecond.toLocaleString('en-US')} events/s vs ${offPerSecond.toLocaleString('en-US')} without (mean of ${before.eventsPerSecond} before and ${after.eventsPerSecond} after): ${relative}x; the listener got ${received} events and ${skipped} skipped`);
  return { eventsPerSecond: withListener.eventsPerSecond, eventsPerSecondWithout: offPerSecond, relative, received, skipped };
}

interface SingleOutcome {
  requestsPerSecond: number;
  latencyMs: LoadResult['latencyMs'];
  load: LoadResult;
  bare: LoadResult[];
  bareRequestsPerSecond: number;
  bareLatencyMs: { p50: number; p99: number };
  ratio: number;
  persisted: number;
  sluice: SluiceStats;
}

async function scenarioSingle(h: Harness, tag: string, label = 'single'): Promise<SingleOutcome> {
  const p = plan(h.opts);
  const src = await h.sources(`bench-${label}`);
  const bodies = BodyFactory.track(`${tag}-${label}`);
  const bare = await h.startBare();
  const spec = (url: string, seconds: number) => ({ url, path: '/v1/track', headers: h.writeHeaders(src.writeKey), body: () => bodies.next(), connections: p.singleConnections, durationSeconds: seconds });
  const bares: LoadResult[] = [];
  const barePhase = async (n: number) => {
    const { result } = await h.phase(`${label}-bare-${n}`, () => runAutocannon(spec(bare.url, p.bareSeconds)), (r) => r.ok);
    h.checkLoad(`${label} bare Fastify #${n}`, result);
    bares.push(result);
    console.log(`  bare Fastify #${n}: ${result.requestsPerSecond.toLocaleString('en-US')} req/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms`);
  };
  await barePhase(1);
  const { result, record } = await h.phase(
    label,
    async () => {
      const base = await h.persistedByWorker();
      const load = await runAutocannon(spec(h.api.url, p.singleSeconds));
      const persisted = await h.waitPersisted(src.id, load.accepted, p.singleConnections, base);
      return { load, ...persisted };
    },
    (r) => r.count,
    true,
  );
  const { load } = result;
  const st = record.sluice!;
  h.checkLoad(`${label} (POST /v1/track)`, load);
  h.checkStored(label, result.count, load.accepted, p.singleConnections);
  console.log(`  Sluice: ${load.requestsPerSecond.toLocaleString('en-US')} req/s, p50 ${load.latencyMs.p50} ms, p99 ${load.latencyMs.p99} ms; ${result.count.toLocaleString('en-US')} events stored`);
  console.log(`  api: ${st.addBulkCalls} Redis addBulk calls (${st.addBulkCalls ? Math.round(result.count / st.addBulkCalls) : 0} events each, ${st.enqueueMsMean} ms); worker: ${st.jobs} statements of ${Math.round(st.eventsPerJob)} events, ${st.statementMsMean} ms each`);
  await barePhase(2);
  const bareOk = bares.reduce((s, b) => s + b.ok, 0);
  const bareSecs = bares.reduce((s, b) => s + b.elapsedSeconds, 0);
  const bareRequestsPerSecond = Math.round(bareOk / bareSecs);
  return {
    requestsPerSecond: load.requestsPerSecond,
    latencyMs: load.latencyMs,
    load,
    bare: bares,
    bareRequestsPerSecond,
    bareLatencyMs: { p50: Math.max(...bares.map((b) => b.latencyMs.p50)), p99: Math.max(...bares.map((b) => b.latencyMs.p99)) },
    ratio: round(load.requestsPerSecond / bareRequestsPerSecond, 3),
    persisted: result.count,
    sluice: st,
  };
}

interface ScaleOutOutcome {
  /** events/s end to end with one api and one worker, run right before */
  oneByOne: number;
  /** with two of each against the same PostgreSQL and Redis */
  twoByTwo: number;
  relative: number;
  accepted: number;
  stored: number;
  duplicates: number;
}

/**
 * The batch load with one api and one worker, then with two of each (load split over both api
 * processes), same PostgreSQL and Redis: events/s side by side, and nothing lost or stored twice.
 * On 2 cores this mostly shows what coordination costs.
 */
async function scenarioScaleOut(h: Harness, tag: string): Promise<ScaleOutOutcome> {
  const p = plan(h.opts);
  const one = await scenarioBatch(h, tag, { withBaseline: false, label: 'scaleout-1x1' });
  await h.startExtras(1);
  try {
    await h.checkpoint();
    const src = await h.sources('bench-scaleout-2x2');
    const bodies = BodyFactory.batch(`${tag}-scaleout-2x2`, 100);
    const apis = [h.api, ...h.extraApis];
    const perApi = Math.max(1, Math.round(p.batchConnections / apis.length));
    const { result } = await h.phase(
      'scaleout-2x2',
      async () => {
        const base = await h.persistedByWorker();
        const loads = await Promise.all(
          apis.map((api) => runAutocannon({ url: api.url, path: '/v1/batch', headers: h.writeHeaders(src.writeKey), body: () => bodies.next(), connections: perApi, durationSeconds: p.batchSeconds, countAccepted: true })),
        );
        const accepted = loads.reduce((sum, l) => sum + l.accepted, 0);
        const persisted = await h.waitPersisted(src.id, accepted, perApi * apis.length * 100, base);
        return { loads, accepted, startedAt: Math.min(...loads.map((l) => l.startedAt)), ...persisted };
      },
      (r) => r.count,
    );
    result.loads.forEach((l, i) => h.checkLoad(`scaleout-2x2 (api ${i + 1})`, l));
    const { rows } = await h.monitor.query('SELECT count(*)::int AS n, count(DISTINCT message_id)::int AS d FROM events WHERE source_id = $1', [src.id]);
    const duplicates = rows[0].n - rows[0].d;
    h.check(duplicates === 0, `scaleout-2x2: ${duplicates} events stored twice`);
    h.checkStored('scaleout-2x2', result.count, result.accepted, perApi * apis.length * 100);
    const twoByTwo = Math.round(result.count / ((result.lastCommitAt - result.startedAt) / 1000));
    console.log(`  1 api + 1 worker: ${one.eventsPerSecond.toLocaleString('en-US')} events/s; 2 + 2: ${twoByTwo.toLocaleString('en-US')} events/s (${result.accepted.toLocaleString('en-US')} accepted, ${result.count.toLocaleString('en-US')} stored, ${duplicates} duplicates)`);
    return { oneByOne: one.eventsPerSecond, twoByTwo, relative: round(twoByTwo / one.eventsPerSecond, 3), accepted: result.accepted, stored: result.count, duplicates };
  } finally {
    await h.stopExtras();
  }
}

interface TracingModeOutcome {
  mode: string;
  settings: Record<string, string>;
  /** medians over the rounds (each round: batch with its COPY baselines, then single with its bare baselines) */
  batchRatio: number;
  batchEventsPerSecond: number;
  copyRowsPerSecond: number;
  singleRatio: number;
  singleRequestsPerSecond: number;
  bareRequestsPerSecond: number;
  /** CPU of the api and worker processes per event (batch) and per request (single), median over the rounds */
  sluiceCpuUs: { batch: number; single: number };
  rounds: { batchRatio: number; singleRatio: number; batchCpuUs: number; singleCpuUs: number }[];
  /** OTLP export requests and bytes the sink received while this mode ran (all rounds) */
  exportRequests: number;
  exportBytes: number;
}

interface TracingOutcome {
  rounds: number;
  modes: TracingModeOutcome[];
  /** each mode's ratios (and api + worker CPU per event) over the off mode's, same run */
  relative: Record<string, { batch: number; single: number; batchCpu: number; singleCpu: number }>;
}

const TRACING_MODES: { mode: string; settings: (sinkUrl: string) => Record<string, string> }[] = [
  { mode: 'off', settings: () => ({ OTEL_SDK_DISABLED: 'true' }) },
  ...[['1 %', '0.01'], ['100 %', '1']].map(([mode, ratio]) => ({
    mode,
    settings: (sinkUrl: string) => ({ OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: ratio }),
  })),
];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * The batch and single scenarios with tracing off, at 1 % and at 100 % sampling, api and worker
 * restarted for each; each mode's ratios against baselines measured around it. A warm-up batch
 * comes first (the run's first COPY baseline is cold and would flatter whichever mode went
 * first), then `rounds` rounds, the order reversed every other round so that no mode always
 * runs early or late; each figure is the median over the rounds. The api and worker CPU per
 * event is the steadier figure on a shared machine: the throughput ratios move with everything
 * else that runs. Spans go to a counting OTLP sink in this process.
 */
async function scenarioTracing(h: Harness, tag: string, rounds: number): Promise<TracingOutcome> {
  const sink = await startOtlpSink();
  const p = plan(h.opts);
  const perMode = new Map<string, { settings: Record<string, string>; batches: BatchOutcome[]; singles: SingleOutcome[]; cpu: { batch: number; single: number }[]; requests: number; bytes: number }>();
  const sluiceCpu = (label: string) => {
    const rec = h.phases.find((ph) => ph.name === label);
    return rec ? round((rec.cpuUsPerEvent.api ?? 0) + (rec.cpuUsPerEvent.worker ?? 0), 1) : 0;
  };
  try {
    await h.startSluice(TRACING_MODES[0].settings(sink.url), '-tracing-warmup');
    await scenarioBatch(h, tag, { withBaseline: true, seconds: Math.max(1, p.batchSeconds / 4), label: 'tracing-warmup' });
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? TRACING_MODES : [...TRACING_MODES].reverse();
      for (const m of order) {
        const key = `${m.mode.replace(/[^a-z0-9]/g, '')}-r${r + 1}`;
        const settings = m.settings(sink.url);
        await h.startSluice(settings, `-tracing-${key}`);
        const before = sink.stats();
        console.log(`  tracing ${m.mode}, round ${r + 1}/${rounds}: ${JSON.stringify(settings)}`);
        const batch = await scenarioBatch(h, tag, { withBaseline: true, label: `tracing-${key}-batch` });
        const single = await scenarioSingle(h, tag, `tracing-${key}-single`);
        await h.stopSluice(); // flushes the last spans into the sink
        const after = sink.stats();
        const entry = perMode.get(m.mode) ?? { settings, batches: [], singles: [], cpu: [], requests: 0, bytes: 0 };
        entry.batches.push(batch);
        entry.singles.push(single);
        entry.cpu.push({ batch: sluiceCpu(`tracing-${key}-batch`), single: sluiceCpu(`tracing-${key}-single`) });
        entry.requests += after.requests - before.requests;
        entry.bytes += after.bytes - before.bytes;
        perMode.set(m.mode, entry);
        const cpu = entry.cpu[entry.cpu.length - 1];
        console.log(
          `  tracing ${m.mode}, round ${r + 1}: batch ratio ${batch.ratio} (api + worker ${cpu.batch} µs/event), single ratio ${single.ratio} (${cpu.single} µs/request); ` +
            `${after.requests - before.requests} OTLP exports, ${Math.round((after.bytes - before.bytes) / 1024)} KiB`,
        );
      }
    }
    const modes: TracingModeOutcome[] = TRACING_MODES.map(({ mode }) => {
      const e = perMode.get(mode)!;
      return {
        mode,
        settings: e.settings,
        batchRatio: round(median(e.batches.map((b) => b.ratio)), 3),
        batchEventsPerSecond: Math.round(median(e.batches.map((b) => b.eventsPerSecond))),
        copyRowsPerSecond: Math.round(median(e.batches.map((b) => b.copyRowsPerSecond))),
        singleRatio: round(median(e.singles.map((s) => s.ratio)), 3),
        singleRequestsPerSecond: Math.round(median(e.singles.map((s) => s.requestsPerSecond))),
        bareRequestsPerSecond: Math.round(median(e.singles.map((s) => s.bareRequestsPerSecond))),
        sluiceCpuUs: { batch: round(median(e.cpu.map((c) => c.batch)), 1), single: round(median(e.cpu.map((c) => c.single)), 1) },
        rounds: e.batches.map((b, i) => ({ batchRatio: b.ratio, singleRatio: e.singles[i].ratio, batchCpuUs: e.cpu[i].batch, singleCpuUs: e.cpu[i].single })),
        exportRequests: e.requests,
        exportBytes: e.bytes,
      };
    });
    const off = modes[0];
    h.check(off.exportRequests === 0, `tracing off: ${off.exportRequests} OTLP exports arrived (expected none)`);
    h.check(modes[2].exportRequests > 0, 'tracing at 100 %: no OTLP export arrived');
    const rel = (a: number, b: number) => (b > 0 ? round(a / b, 3) : 0);
    const relative = Object.fromEntries(
      modes.map((x) => [
        x.mode,
        { batch: rel(x.batchRatio, off.batchRatio), single: rel(x.singleRatio, off.singleRatio), batchCpu: rel(x.sluiceCpuUs.batch, off.sluiceCpuUs.batch), singleCpu: rel(x.sluiceCpuUs.single, off.sluiceCpuUs.single) },
      ]),
    );
    for (const m of modes.slice(1)) {
      const r = relative[m.mode];
      console.log(`  tracing ${m.mode} vs off (medians of ${rounds}): batch ratio ${r.batch}x, single ratio ${r.single}x; api + worker CPU per event batch ${r.batchCpu}x, single ${r.singleCpu}x`);
    }
    return { rounds, modes, relative };
  } finally {
    await h.startSluice({}, '-after-tracing');
    await sink.stop();
  }
}

interface LatencyOutcome {
  /** a query client on the ingested source during the paced run */
  queriesDuring: QueryProbeResult;
  /** the same client right after, nothing else running */
  queriesIdle: QueryProbeResult;
  maxEventsPerSecond: number;
  maxFrom: 'batch scenario' | 'calibration run' | '--latency-rate option';
  requestsPerSecond: number;
  eventsPerSecond: number;
  http: LoadResult;
  /** the same paced load with the query client beside it */
  httpWithQueries: LoadResult;
  httpServerSide: { p50: number | null; p99: number | null };
  lagSeconds: { p50: number | null; p99: number | null; count: number };
  sluice: SluiceStats;
  bare: LoadResult;
  autocannonOverallRate?: { http: LoadResult; lagP50: number | null; lagP99: number | null };
}

async function scenarioLatency(h: Harness, tag: string, maxEventsPerSecond: number, maxFrom: LatencyOutcome['maxFrom']): Promise<LatencyOutcome> {
  const p = plan(h.opts);
  const rate = Math.max(1, maxEventsPerSecond / 2 / 100);
  console.log(`  offered load: ${rate.toFixed(1)} req/s x 100 events = ${Math.round(rate * 100).toLocaleString('en-US')} events/s (half of ${maxEventsPerSecond.toLocaleString('en-US')}, from the ${maxFrom})`);

  let queries: QueryProbeResult | undefined;
  let lastLatencySource: string | undefined;
  const run = async (name: string, tool: 'paced' | 'autocannon', seconds: number, withQueries = false) => {
    const src = await h.sources(`bench-${name}`);
    const bodies = BodyFactory.batch(`${tag}-${name}`, 100);
    const spec = { url: h.api.url, path: '/v1/batch', headers: h.writeHeaders(src.writeKey), body: () => bodies.next(), connections: p.latencyConnections, durationSeconds: seconds, countAccepted: true, rate };
    const { result, record } = await h.phase(
      name,
      async () => {
        const base = await h.persistedByWorker();
        const loading = tool === 'paced' ? runPaced(spec) : runAutocannon(spec);
        // The second paced run also has a query client on the same source (the two sides must not starve each other).
        if (withQueries) lastLatencySource = src.id;
        if (withQueries) queries = await probeQueries({ url: h.api.url, key: h.adminKey, sourceId: src.id, perSecond: 5, until: loading });
        const load = await loading;
        const persisted = await h.waitPersisted(src.id, load.accepted, tool === 'paced' ? 0 : p.latencyConnections * 100, base);
        return { load, ...persisted };
      },
      (r) => r.count,
      true,
    );
    h.checkLoad(`${name} (POST /v1/batch at ${rate.toFixed(1)} req/s)`, result.load);
    h.checkStored(name, result.count, result.load.accepted, tool === 'paced' ? 0 : p.latencyConnections * 100);
    const st = record.sluice!;
    return { load: result.load, lag: st.lagSeconds, server: st.serverMs, sluice: st };
  };

  // Ingestion alone at half load: the HTTP and lag targets. Then the same load with a query
  // client beside it: what each side does to the other.
  const paced = await run('latency', 'paced', p.latencySeconds);
  console.log(`  Sluice (paced): ${paced.load.requestsPerSecond} req/s, HTTP p50 ${paced.load.latencyMs.p50} ms, p99 ${paced.load.latencyMs.p99} ms; lag p50 ${paced.lag.p50} s, p99 ${paced.lag.p99} s`);
  const withQueries = await run('latency-queries', 'paced', p.latencySeconds, true);
  console.log(`  Sluice (paced, with the query client): HTTP p50 ${withQueries.load.latencyMs.p50} ms, p99 ${withQueries.load.latencyMs.p99} ms; lag p99 ${withQueries.lag.p99} s`);
  const q = queries!;
  // The same questions on the same source right after, with nothing else running: the baseline.
  const latencySource = lastLatencySource!;
  const idle = await probeQueries({ url: h.api.url, key: h.adminKey, sourceId: latencySource, perSecond: 5, until: sleep(Math.min(5000, p.latencySeconds * 250)) });
  h.check(q.errors === 0, `latency: ${q.errors} of ${q.queries} queries during ingestion failed; e.g. ${q.sampleErrors[0] ?? ''}`);
  console.log(`  queries during it (5/s, counts by minute and the newest events, alternately): ${q.queries}, p50 ${q.ms.p50} ms, p95 ${q.ms.p95} ms, max ${q.ms.max} ms; the same right after, idle: p95 ${idle.ms.p95} ms`);

  const bareProc = await h.startBare();
  const bodies = BodyFactory.batch(`${tag}-latency-bare`, 100);
  const { result: bare } = await h.phase(
    'latency-bare',
    () => runPaced({ url: bareProc.url, path: '/v1/batch', headers: { 'Content-Type': 'application/json' }, body: () => bodies.next(), connections: p.latencyConnections, durationSeconds: p.bareSeconds, rate }),
    (r) => r.ok * 100,
  );
  h.checkLoad('latency bare Fastify', bare);
  console.log(`  bare Fastify (paced): HTTP p50 ${bare.latencyMs.p50} ms, p99 ${bare.latencyMs.p99} ms`);

  let autocannonOverallRate: LatencyOutcome['autocannonOverallRate'];
  if (!h.opts.smoke) {
    const ac = await run('latency-autocannon', 'autocannon', p.bareSeconds);
    autocannonOverallRate = { http: ac.load, lagP50: ac.lag.p50, lagP99: ac.lag.p99 };
    console.log(`  Sluice (autocannon overallRate, bursty): HTTP p50 ${ac.load.latencyMs.p50} ms, p99 ${ac.load.latencyMs.p99} ms; lag p99 ${ac.lag.p99} s`);
  }

  return {
    maxEventsPerSecond,
    maxFrom,
    requestsPerSecond: round(rate, 2),
    eventsPerSecond: Math.round(rate * 100),
    http: paced.load,
    httpServerSide: paced.server,
    lagSeconds: paced.lag,
    sluice: paced.sluice,
    httpWithQueries: withQueries.load,
    bare,
    autocannonOverallRate,
    queriesDuring: q,
    queriesIdle: idle,
  };
}

// ---------------------------------------------------------------------------------------------

function rowsFor(r: Results): Row[] {
  const rows: Row[] = [];
  const mb = (b: number | null) => (b === null ? null : Math.round(b / 1e6)); // MB = 10^6 bytes, as the targets
  if (r.batch) {
    rows.push({ scenario: 'batch', figure: 'events persisted/s, end to end', value: r.batch.eventsPerSecond, unit: 'ev/s', baseline: r.batch.copyRowsPerSecond, baselineLabel: '(COPY)', ratio: r.batch.ratio, target: '>= 0.5x COPY', pass: r.batch.ratio >= 0.5 });
  }
  if (r.plan) {
    const pl = r.plan;
    rows.push({ scenario: 'plan', figure: 'events persisted/s, tracking plan on (flag)', value: pl.eventsPerSecond, unit: 'ev/s', baseline: pl.eventsPerSecondWithout, baselineLabel: '(no plan)', ratio: pl.relative, target: '>= 0.9x no plan', pass: pl.relative >= 0.9 });
    rows.push({ scenario: 'plan', figure: 'batch ratio with the plan', value: pl.ratio, unit: 'x COPY', baseline: pl.ratioWithout, baselineLabel: '(no plan)', ratio: null, target: '', pass: null });
  }
  if (r.live) {
    const lv = r.live;
    rows.push({ scenario: 'live', figure: 'events persisted/s, one live listener', value: lv.eventsPerSecond, unit: 'ev/s', baseline: lv.eventsPerSecondWithout, baselineLabel: '(no listener)', ratio: lv.relative, target: '>= 0.95x no listener', pass: lv.relative >= 0.95 });
  }
  if (r.single) {
    rows.push({ scenario: 'single', figure: 'requests/s, POST /v1/track', value: r.single.requestsPerSecond, unit: 'req/s', baseline: r.single.bareRequestsPerSecond, baselineLabel: '(bare Fastify)', ratio: r.single.ratio, target: '>= 0.5x bare', pass: r.single.ratio >= 0.5 });
    rows.push({ scenario: 'single', figure: 'latency p50', value: r.single.latencyMs.p50, unit: 'ms', baseline: r.single.bareLatencyMs.p50, baselineLabel: '(bare)', ratio: null, target: '', pass: null });
    rows.push({ scenario: 'single', figure: 'latency p99', value: r.single.latencyMs.p99, unit: 'ms', baseline: r.single.bareLatencyMs.p99, baselineLabel: '(bare)', ratio: null, target: '< 50 ms', pass: r.single.latencyMs.p99 < 50 });
  }
  if (r.latency) {
    const l = r.latency;
    rows.push({ scenario: 'latency', figure: `HTTP p50 at ${l.eventsPerSecond} ev/s`, value: l.http.latencyMs.p50, unit: 'ms', baseline: l.bare.latencyMs.p50, baselineLabel: '(bare)', ratio: null, target: '', pass: null });
    rows.push({ scenario: 'latency', figure: `HTTP p99 at ${l.eventsPerSecond} ev/s`, value: l.http.latencyMs.p99, unit: 'ms', baseline: l.bare.latencyMs.p99, baselineLabel: '(bare)', ratio: null, target: '< 20 ms', pass: l.http.latencyMs.p99 < 20 });
    if (l.httpWithQueries) rows.push({ scenario: 'latency', figure: 'HTTP p99, query client beside', value: l.httpWithQueries.latencyMs.p99, unit: 'ms', baseline: l.http.latencyMs.p99, baselineLabel: '(alone)', ratio: null, target: '', pass: null });
    rows.push({ scenario: 'latency', figure: 'query p95 during ingestion', value: l.queriesDuring.ms.p95, unit: 'ms', baseline: l.queriesIdle.ms.p95, baselineLabel: '(idle)', ratio: l.queriesIdle.ms.p95 ? round(l.queriesDuring.ms.p95 / l.queriesIdle.ms.p95, 2) : null, target: '', pass: null });
    rows.push({ scenario: 'latency', figure: 'end-to-end lag p50', value: l.lagSeconds.p50, unit: 's', baseline: null, baselineLabel: '', ratio: null, target: '', pass: null });
    rows.push({ scenario: 'latency', figure: 'end-to-end lag p99', value: l.lagSeconds.p99, unit: 's', baseline: null, baselineLabel: '', ratio: null, target: '< 1 s', pass: l.lagSeconds.p99 !== null && l.lagSeconds.p99 < 1 });
  }
  if (r.memory) {
    const m = r.memory;
    rows.push({ scenario: 'memory', figure: 'api peak RSS', value: mb(m.apiPeakBytes), unit: 'MB', baseline: mb(m.apiIdleBytes), baselineLabel: '(idle)', ratio: null, target: '< 250 MB', pass: m.apiPeakBytes !== null && m.apiPeakBytes < 250e6 });
    rows.push({ scenario: 'memory', figure: 'worker peak RSS', value: mb(m.workerPeakBytes), unit: 'MB', baseline: mb(m.workerIdleBytes), baselineLabel: '(idle)', ratio: null, target: '< 350 MB', pass: m.workerPeakBytes !== null && m.workerPeakBytes < 350e6 });
  }
  for (const f of r.queries?.figures ?? []) {
    rows.push({ scenario: 'queries', figure: `${f.name}, p50 (cache off)`, value: f.cold.p50, unit: 'ms', baseline: null, baselineLabel: '', ratio: null, target: '', pass: null });
    rows.push({ scenario: 'queries', figure: `${f.name}, p95 (cache off)`, value: f.cold.p95, unit: 'ms', baseline: null, baselineLabel: '', ratio: null, target: `< ${f.targetMs} ms`, pass: f.cold.p95 < f.targetMs });
    rows.push({ scenario: 'queries', figure: `${f.name}, p95 (cache warm)`, value: f.warm.p95, unit: 'ms', baseline: null, baselineLabel: '', ratio: null, target: '', pass: null });
  }
  if (r.scaleout) {
    const so = r.scaleout;
    rows.push({ scenario: 'scaleout', figure: 'events/s, 2 api + 2 worker', value: so.twoByTwo, unit: 'ev/s', baseline: so.oneByOne, baselineLabel: '(1 + 1)', ratio: so.relative, target: 'none lost or twice', pass: so.duplicates === 0 && so.stored >= so.accepted });
  }
  if (r.costcurve) {
    const cc = r.costcurve;
    rows.push({ scenario: 'costcurve', figure: `batch ratio, ${cc.seedEvents.toLocaleString('en-US')} events stored`, value: cc.seeded.ratio, unit: 'x COPY', baseline: cc.empty.ratio, baselineLabel: '(empty)', ratio: cc.relative, target: '>= 0.87x empty (cost +15 %)', pass: cc.relative >= 1 / 1.15 });
  }
  if (r.tracing) {
    for (const m of r.tracing.modes) {
      const rel = r.tracing.relative[m.mode];
      const ok = m.mode === '1 %' ? rel.batch >= 0.97 : null;
      const off = r.tracing.modes[0];
      const relRow = (what: 'batch' | 'single', value: number, baseline: number, unit: string, target: string, pass: boolean | null): Row =>
        ({ scenario: 'tracing', figure: `${what} ratio, tracing ${m.mode}`, value, unit, baseline: m === off ? null : baseline, baselineLabel: m === off ? '' : '(off)', ratio: m === off ? null : rel[what], target, pass });
      rows.push(relRow('batch', m.batchRatio, off.batchRatio, 'x COPY', m.mode === '1 %' ? '>= 0.97x off' : '', ok));
      rows.push(relRow('single', m.singleRatio, off.singleRatio, 'x bare', '', null));
      if (m !== off)
        rows.push({ scenario: 'tracing', figure: `api + worker CPU µs/event, batch, tracing ${m.mode}`, value: m.sluiceCpuUs.batch, unit: 'µs', baseline: off.sluiceCpuUs.batch, baselineLabel: '(off)', ratio: rel.batchCpu, target: '', pass: null });
    }
  }
  return rows;
}

const COSTCURVE_EVENTS = 10_000_000;
const COSTCURVE_SMOKE_EVENTS = 20_000;

interface CostCurveOutcome {
  seedDatabase: string;
  seedEvents: number;
  /** seconds spent seeding (0 when an earlier run's seed was reused) */
  seedSeconds: number;
  cloneSeconds: number;
  /** the dedup table and its primary key on the clone before the run, against shared_buffers */
  dedupRows: number;
  dedupIndexBytes: number;
  sharedBuffersBytes: number;
  empty: { eventsPerSecond: number; copyRowsPerSecond: number; ratio: number; cpuUsPerEvent: Record<string, number> };
  seeded: { eventsPerSecond: number; copyRowsPerSecond: number; ratio: number; cpuUsPerEvent: Record<string, number>; dedupIndexBlocksRead: number; dedupIndexBlocksHit: number };
  /** seeded ratio / empty ratio: the target is >= 1 / 1.15 (cost per event within 15 %) */
  relative: number;
}

/**
 * The cost curve: the batch scenario on the run's empty database (already measured) and again on a
 * clone of a database holding `seedEvents` events with their dedup claims and rollups. Each ratio is
 * against COPY into its own database, so a slower machine minute does not read as growth; the CPU per
 * event (PostgreSQL's above all) shows where any growth comes from. Sluice stays on the clone.
 */
async function scenarioCostCurve(h: Harness, tag: string, empty: BatchOutcome, seedEvents: number): Promise<CostCurveOutcome> {
  // The full seed is kept for later runs (and shared with the queries scenario); the smoke one is not.
  const seedDatabase = h.opts.smoke ? `${h.dbName}_seed` : `sluice_seed_${seedEvents}`;
  const seeded = await seed({ events: seedEvents, days: 30, sources: 3, users: h.opts.smoke ? 2000 : 100_000, database: seedDatabase, seed: 42, fresh: false, log: (l) => console.log(`  ${l.trim()}`) });
  if (seeded.events !== seedEvents) throw new Error(`${seedDatabase} holds ${seeded.events} events, not ${seedEvents}: drop it and run again`);
  const clone = `${h.dbName}_seeded`;
  await h.stopSluice();
  await h.monitor.end();
  const t0 = Date.now();
  await createDatabase(clone, seedDatabase);
  const cloneSeconds = round((Date.now() - t0) / 1000, 1);
  if (h.opts.smoke) await dropDatabase(seedDatabase);
  h.dbName = clone;
  h.monitor = new Client({ connectionString: h.dbUrl, application_name: 'sluice-bench-monitor' });
  await h.monitor.connect();
  h.sluiceSpawn.env = { ...h.sluiceSpawn.env, DATABASE_URL: h.dbUrl };
  console.log(`  ${seeded.reused ? `reused ${seedDatabase}` : `seeded ${seedDatabase} in ${seeded.seconds.toFixed(0)} s`}; cloned into ${clone} in ${cloneSeconds} s; ${await migrate(h.sluiceSpawn.env)}`);
  await h.startSluice({}, '-seeded');
  const creds = await credentials(h.api.url, h.sluiceSpawn.env.ADMIN_TOKEN as string);
  h.sources = creds.createSource;
  h.adminKey = creds.adminKey;
  const sizes = (
    await h.monitor.query(
      `SELECT (SELECT count(*) FROM event_dedup)::float8 AS rows, pg_relation_size('event_dedup_pkey')::float8 AS idx,
              (SELECT setting::float8 * 8192 FROM pg_settings WHERE name = 'shared_buffers') AS sb`,
    )
  ).rows[0];
  const dedupIo = async () => (await h.monitor.query(`SELECT idx_blks_read::float8 AS r, idx_blks_hit::float8 AS h FROM pg_statio_user_indexes WHERE indexrelname = 'event_dedup_pkey'`)).rows[0] ?? { r: 0, h: 0 };
  const io0 = await dedupIo();
  const full = await scenarioBatch(h, tag, { withBaseline: true, label: 'costcurve-seeded' });
  // pg_statio is updated by the backends at transaction end and flushed at most every second or so.
  await sleep(1500);
  const io1 = await dedupIo();
  const cpu = (label: string) => h.phases.find((ph) => ph.name === label)?.cpuUsPerEvent ?? {};
  const relative = empty.ratio ? round(full.ratio / empty.ratio, 3) : 0;
  console.log(
    `  batch ratio: empty ${empty.ratio} x COPY (${empty.eventsPerSecond.toLocaleString('en-US')} ev/s), ${seedEvents.toLocaleString('en-US')} stored ${full.ratio} x COPY (${full.eventsPerSecond.toLocaleString('en-US')} ev/s): ${relative} x; ` +
      `dedup key ${Math.round(sizes.idx / 1e6)} MB (shared_buffers ${Math.round(sizes.sb / 1e6)} MB), index blocks read ${io1.r - io0.r}, hit ${io1.h - io0.h}`,
  );
  return {
    seedDatabase,
    seedEvents,
    seedSeconds: seeded.reused ? 0 : round(seeded.seconds, 1),
    cloneSeconds,
    dedupRows: sizes.rows,
    dedupIndexBytes: sizes.idx,
    sharedBuffersBytes: sizes.sb,
    empty: { eventsPerSecond: empty.eventsPerSecond, copyRowsPerSecond: empty.copyRowsPerSecond, ratio: empty.ratio, cpuUsPerEvent: cpu('batch') },
    seeded: { eventsPerSecond: full.eventsPerSecond, copyRowsPerSecond: full.copyRowsPerSecond, ratio: full.ratio, cpuUsPerEvent: cpu('costcurve-seeded'), dedupIndexBlocksRead: io1.r - io0.r, dedupIndexBlocksHit: io1.h - io0.h },
    relative,
  };
}

interface PlanOutcome {
  /** the batch ratio (vs COPY of the batch scenario) with the bench plan attached in flag mode */
  ratio: number;
  /** the same run's batch ratio without a plan (mean of the runs right before and after) */
  ratioWithout: number;
  eventsPerSecond: number;
  eventsPerSecondWithout: number;
  /** with / without */
  relative: number;
  flagged: number;
  rules: number;
}

interface Results {
  batch?: BatchOutcome;
  plan?: PlanOutcome;
  live?: LiveOutcome;
  single?: SingleOutcome;
  latency?: LatencyOutcome;
  scaleout?: ScaleOutOutcome;
  tracing?: TracingOutcome;
  memory?: { phases: string[]; apiPeakBytes: number | null; workerPeakBytes: number | null; apiIdleBytes: number | null; workerIdleBytes: number | null; byPhase: Record<string, Record<string, number>> };
  queries?: QueriesOutcome;
  costcurve?: CostCurveOutcome;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const p = plan(opts);
  const runId = `${Date.now().toString(36)}${randomToken(4).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`;
  const dbName = `sluice_bench_${runId}`;
  const prefix = `sluice-bench-${runId}`;
  const adminToken = randomToken(32);
  const runDir = mkdtempSync(join(os.tmpdir(), `sluice-bench-${runId}-`));
  const h = new Harness(opts, runDir, dbName);
  const startedAt = Date.now();
  const hardLimit = opts.smoke ? setTimeout(() => abort(new Error('smoke run took longer than 240 s')), 240_000) : null;

  const want = (s: Scenario) => opts.scenarios.includes(s);
  const runBatch = want('batch') || want('memory');
  const runSingle = want('single') || want('memory');
  console.log(`Sluice bench ${opts.smoke ? '(smoke) ' : ''}${opts.profile ? '(profiling) ' : ''}— scenarios: ${opts.scenarios.join(', ')}; run ${runId}; logs in ${runDir}`);

  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    h.rss?.stop();
    await Promise.all([h.api?.stop(opts.profile ? 60_000 : 15_000), h.worker?.stop(opts.profile ? 60_000 : 15_000), h.bare?.stop(5000), h.stopExtras()].map((x) => x?.catch(() => undefined)));
    await h.monitor?.end().catch(() => undefined);
    if (!opts.keep) {
      for (const db of new Set([dbName, h.dbName])) await dropDatabase(db).catch((err: Error) => console.error(`could not drop database ${db}: ${err.message}`));
      await deleteRedisPrefix(prefix).catch((err: Error) => console.error(`could not delete Redis keys ${prefix}*: ${err.message}`));
    } else console.log(`--keep: database ${[...new Set([dbName, h.dbName])].join(', ')} and Redis keys ${prefix}* left in place`);
    await h.privateRedis?.stop().catch(() => undefined);
  };
  const abort = (err: Error) => {
    console.error(`\nbench aborted: ${err.message}`);
    void cleanup().finally(() => process.exit(1));
  };
  process.once('SIGINT', () => abort(new Error('interrupted (SIGINT)')));
  process.once('SIGTERM', () => abort(new Error('terminated (SIGTERM)')));

  const results: Results = {};
  let machine: Machine | null = null;
  const profiles: Record<string, Record<string, ProfileSummary>> = {};
  let exitCode = 0;
  try {
    // --- the system under test -----------------------------------------------------------
    // REDIS_DURABILITY as the run's Redis really offers it: the shared Redis keeps nothing on disk.
    const durability = opts.redisFsync ? 'fsync' : 'none';
    if (opts.redisFsync) {
      const dir = join(runDir, 'redis');
      mkdirSync(dir);
      h.privateRedis = await startFsyncRedis(dir);
      console.log(`  --redis-fsync: private Redis with appendonly yes, appendfsync always at ${h.privateRedis.url}`);
    }
    await createDatabase(dbName);
    const dbUrl = databaseUrl(dbName);
    h.monitor = new Client({ connectionString: dbUrl, application_name: 'sluice-bench-monitor' });
    await h.monitor.connect();
    machine = await machineInfo(h.monitor, durability);
    const env = { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', DATABASE_URL: dbUrl, REDIS_URL, QUEUE_PREFIX: prefix, ADMIN_TOKEN: adminToken, HOST: '127.0.0.1', REDIS_DURABILITY: durability };
    console.log(`  ${await migrate(env)}`);
    const [apiPort, workerPort] = [await freePort(), await freePort()];
    const profDir = (role: string) => {
      const dir = join(runDir, 'profiles', role);
      mkdirSync(dir, { recursive: true });
      return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
    };
    const mainJs = join(ROOT, 'dist', 'main.js');
    h.sluiceSpawn = { env, ports: { api: apiPort, worker: workerPort }, args: (role) => [...(opts.profile ? profDir(role) : []), ...(role === 'api' ? opts.apiNodeOptions.split(/\s+/).filter(Boolean) : []), mainJs] };
    await h.startSluice();
    const creds = await credentials(h.api.url, adminToken);
    h.sources = creds.createSource;
    h.adminKey = creds.adminKey;
    h.redisPid = (await redisInfo()).pid;
    h.rss = new RssSampler(() => ({ api: h.api.pid, worker: h.worker.pid }));
    h.rss.start();
    h.cpu = new CpuAccounting(async () => ({
      api: [h.api, ...h.extraApis].flatMap((x) => (x.pid ? [x.pid] : [])),
      worker: [h.worker, ...h.extraWorkers].flatMap((x) => (x.pid ? [x.pid] : [])),
      ...(h.bare?.pid ? { bare: [h.bare.pid] } : {}),
      loadgen: [process.pid],
      postgres: await pgPids(h.monitor, h.dbName),
      redis: h.redisPid ? [h.redisPid] : [],
    }));
    await sleep(500);
    const idle = { api: h.rss.peak('api'), worker: h.rss.peak('worker') };
    console.log(`  api and worker ready (idle RSS ${Math.round((idle.api ?? 0) / 1e6)} / ${Math.round((idle.worker ?? 0) / 1e6)} MB); admin key ${creds.adminKeyId}; event ≈ ${eventBytes()} bytes`);

    // --- scenarios -------------------------------------------------------------------------
    if (runBatch) {
      console.log(`\n[batch] POST /v1/batch, 100 events/request, ${p.batchConnections} connections, ${p.batchSeconds} s; baseline COPY ${p.copySeconds} s before and after, 2 connections x ${p.copyRowsPerBatch} rows`);
      results.batch = await scenarioBatch(h, runId, { withBaseline: true });
      if (!opts.smoke || opts.profile) {
        console.log('  PostgreSQL statement breakdown (500 rows per statement, one connection)...');
        results.batch.breakdown = await statementBreakdown(dbUrl, 500, p.pgIterations);
      }
    }
    if (want('plan')) {
      results.batch ??= await scenarioBatch(h, runId, { withBaseline: true });
      console.log(`\n[plan] the batch scenario without a plan, with a realistic tracking plan (20 track events of 5-15 properties, page, identify, group, a common context schema; mode flag), and without again`);
      results.plan = await scenarioPlan(h, runId, creds.adminKey, results.batch);
    }
    if (want('live')) {
      console.log(`\n[live] the batch load without a live listener, with one listener on its source (GET /v1/sources/<id>/live, sampled), and without again`);
      results.live = await scenarioLive(h, runId, creds.adminKey);
    }
    if (runSingle) {
      console.log(`\n[single] POST /v1/track, 1 event/request, ${p.singleConnections} connections, ${p.singleSeconds} s; baseline bare Fastify ${p.bareSeconds} s before and after`);
      results.single = await scenarioSingle(h, runId);
    }
    if (want('latency')) {
      console.log(`\n[latency] POST /v1/batch at half the maximum end-to-end rate, ${p.latencySeconds} s, steady pacing`);
      let max = h.opts.latencyRate ? h.opts.latencyRate * 2 : results.batch?.eventsPerSecond;
      let from: LatencyOutcome['maxFrom'] = h.opts.latencyRate ? '--latency-rate option' : 'batch scenario';
      if (!max) {
        console.log(`  calibrating: maximum end-to-end rate over ${Math.max(2, p.batchSeconds / 2)} s`);
        const cal = await scenarioBatch(h, runId, { withBaseline: false, seconds: Math.max(2, p.batchSeconds / 2), label: 'calibration' });
        max = cal.eventsPerSecond;
        from = 'calibration run';
      }
      results.latency = await scenarioLatency(h, runId, max, from);
    }
    if (want('scaleout')) {
      console.log(`\n[scaleout] the batch load with 1 api + 1 worker, then 2 + 2 against the same PostgreSQL and Redis (load split over both api processes), ${p.batchSeconds} s each`);
      results.scaleout = await scenarioScaleOut(h, runId);
    }
    if (want('tracing')) {
      if (opts.profile) h.notes.push('tracing scenario skipped: it restarts api and worker, which would cut their CPU profiles short');
      else {
        console.log(`\n[tracing] the batch and single scenarios with tracing off, at 1 % and at 100 % sampling (parentbased_traceidratio, spans to a counting OTLP sink); api and worker restarted for each; a warm-up, then ${opts.smoke ? 1 : 2} round(s), medians`);
        results.tracing = await scenarioTracing(h, runId, opts.smoke ? 1 : 2);
      }
    }
    if (runBatch || runSingle) {
      const memPhases = ['batch', 'single'].filter((x) => h.phases.some((ph) => ph.name === x));
      results.memory = { phases: memPhases, apiPeakBytes: h.rss.peak('api', memPhases), workerPeakBytes: h.rss.peak('worker', memPhases), apiIdleBytes: idle.api, workerIdleBytes: idle.worker, byPhase: h.rss.table() };
    }
    if (want('queries')) {
      console.log(`\n[queries] the query API on a seeded data set, ${opts.smoke ? 3 : 30} repetitions per question, one client; aggregate cache off, then warm`);
      results.queries = await scenarioQueries({ smoke: opts.smoke, runDir, prefix, log: (l) => console.log(l) });
    }
    // Last: it moves Sluice onto the seeded clone for the rest of the run.
    if (want('costcurve')) {
      const seedEvents = opts.smoke ? COSTCURVE_SMOKE_EVENTS : COSTCURVE_EVENTS;
      if (!results.batch) {
        console.log(`\n[costcurve] the batch scenario on the run's empty database first`);
        results.batch = await scenarioBatch(h, runId, { withBaseline: true });
      }
      console.log(`\n[costcurve] the batch scenario again on a clone of a database holding ${seedEvents.toLocaleString('en-US')} events (bench/seed.ts, 30 days, 3 sources), COPY baseline into the same clone`);
      results.costcurve = await scenarioCostCurve(h, runId, results.batch, seedEvents);
    }
  } catch (err) {
    h.failures.push(`harness error: ${(err as Error).stack ?? err}`);
    console.error(`\n${(err as Error).stack ?? err}`);
  } finally {
    if (h.api && h.worker) {
      h.rss?.stop();
      await Promise.all([h.api.stop(opts.profile ? 60_000 : 15_000), h.worker.stop(opts.profile ? 60_000 : 15_000)]);
      for (const proc of [h.api, h.worker]) {
        const code = proc.exit?.code;
        if (code !== 0 && !opts.profile) h.notes.push(`${proc.name} exit after SIGTERM: code ${code}, signal ${proc.exit?.signal}`);
      }
    }
    if (opts.profile && h.api && h.worker) {
      for (const proc of [h.api, h.worker]) {
        const dir = join(runDir, 'profiles', proc.name);
        const file = findProfile(dir, proc.child.pid ?? -1);
        if (!file || !proc.exit) {
          h.notes.push(`no CPU profile from ${proc.name} (exit ${JSON.stringify(proc.exit)})`);
          continue;
        }
        for (const ph of h.phases.filter((x) => ['batch', 'single', 'latency', 'calibration'].includes(x.name))) {
          (profiles[ph.name] ??= {})[proc.name] = summariseProfile(file, proc.exit.at, ph.from, ph.to);
        }
      }
    }
    await cleanup();
    if (hardLimit) clearTimeout(hardLimit);
  }

  // --- report --------------------------------------------------------------------------------
  if (machine) machine.loadAverageAtEnd = os.loadavg().map((v) => Math.round(v * 100) / 100);
  const rows = rowsFor(results);
  const cpuRows = h.phases.map((ph) => {
    const u = ph.cpuUsPerEvent;
    return [ph.name, ph.events, ph.seconds, `${Math.round(ph.machineBusy * 100)}%`, u.api ?? 0, u.worker ?? 0, u.postgres ?? 0, u.redis ?? 0, u.bare ?? 0, u.loadgen ?? 0, u.other ?? 0];
  });
  console.log(`\nResults (${machine ? `${machine.cpus} x ${machine.cpuModel}, Node ${machine.node}, PostgreSQL ${machine.postgres}` : ''}):\n`);
  console.log(printTable(rows));
  if (h.phases.length) {
    console.log('\nCPU per event (µs; per row for COPY) by process; "loadgen" is this process (autocannon, COPY client), "other" the rest of the machine:\n');
    console.log(printGrid(['phase', 'events', 'seconds', 'machine busy', 'api', 'worker', 'postgres', 'redis', 'bare', 'loadgen', 'other'], cpuRows));
  }
  if (results.batch?.breakdown) {
    const b = results.batch.breakdown;
    console.log(`\nPostgreSQL, ${b.rowsPerStatement} rows per committed write, one connection, payload preparation included (median of ${b.iterations}):\n`);
    console.log(printGrid(['write', 'ms', 'µs/row'], b.statements.map((s) => [s.what, s.medianMs, s.usPerRow])));
    for (const e of b.explain) console.log(`\nEXPLAIN ANALYZE, ${e.what} (${e.executionMs} ms):\n${e.nodes.map((n) => `  ${n.node}  ${n.actualMs} ms, ${n.rows} rows`).join('\n')}`);
    for (const n of b.notes) h.notes.push(n);
  }
  for (const [phase, byProc] of Object.entries(profiles)) {
    for (const [proc, s] of Object.entries(byProc)) {
      console.log(`\nCPU profile, ${proc}, during ${phase} (${s.windowSeconds} s window, ${(s.busyMs / 1000).toFixed(1)} s busy, ${(s.idleMs / 1000).toFixed(1)} s idle):`);
      console.log(printGrid(['self time by package', 'ms', '%'], s.byPackage.slice(0, 10).map((e) => [e.name, e.ms, e.percent])));
      console.log(printGrid(['top functions (self time)', 'ms', '%'], s.topSelf.slice(0, 12).map((e) => [e.name, e.ms, e.percent])));
      console.log(printGrid(['Sluice functions (inclusive)', 'ms', '%'], s.sluiceInclusive.slice(0, 10).map((e) => [e.name, e.ms, e.percent])));
    }
  }
  if (h.notes.length) console.log(`\nNotes:\n${h.notes.map((n) => `  - ${n}`).join('\n')}`);

  const report = {
    kind: opts.smoke ? 'smoke' : opts.all ? 'full' : 'partial',
    scenarios: opts.scenarios,
    profiled: opts.profile,
    settings: { ...p, sluiceEnv: { RATE_LIMIT_RPS: '0', RATE_LIMIT_EPS: '0', ...opts.set }, apiNodeOptions: opts.apiNodeOptions, eventBytes: eventBytes() },
    machine,
    table: rows,
    results,
    phases: h.phases,
    profiles: opts.profile ? profiles : undefined,
    notes: h.notes,
    failures: h.failures,
    durationSeconds: round((Date.now() - startedAt) / 1000, 1),
  };
  // Full runs are the published figures, profiled runs the published profiles (docs/performance.md
  // quotes both, through bench/markdown.ts); smoke and single-scenario runs go to the temp dir.
  const outFile =
    opts.out ??
    (opts.smoke
      ? join(os.tmpdir(), 'sluice-bench-smoke.json')
      : opts.profile
        ? join(ROOT, 'bench', 'results', 'profile.json')
        : opts.all
          ? join(ROOT, 'bench', 'results', 'latest.json')
          : join(os.tmpdir(), `sluice-bench-${opts.scenarios.join('-')}.json`));
  writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nWrote ${outFile} (${report.durationSeconds} s).`);

  if (h.failures.length) {
    console.error(`\nThe harness failed (${h.failures.length}):\n${h.failures.map((f) => `  - ${f}`).join('\n')}`);
    console.error(`Logs kept in ${runDir}`);
    exitCode = 1;
  } else if (opts.profile) {
    console.log(`CPU profiles (open in Chrome DevTools / speedscope): ${join(runDir, 'profiles')}`);
  } else if (opts.keep) {
    console.log(`--keep: logs in ${runDir}`);
  } else {
    rmSync(runDir, { recursive: true, force: true });
  }
  if (!opts.smoke && rows.some((r) => r.pass === false)) console.log('Some targets were missed (informational: the exit code only reflects harness failures).');
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
