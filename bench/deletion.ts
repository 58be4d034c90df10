/**
 * `npm run bench:deletion` — how fast a privacy deletion removes a heavy person, on a large data
 * set, while ingestion runs beside it.
 *
 *   npm run bench:deletion                               5,000,000 events, a person with 300,000
 *   npm run bench:deletion -- --events 10000000          the issue's seed size
 *   options: --person-events N  --days D  --rate <events/s> (default: half the capacity measured
 *            first)  --calibrate-seconds S  --baseline-seconds S  --set KEY=VALUE (Sluice env,
 *            repeatable, e.g. LIFECYCLE_BATCH_ROWS=10000)  --fresh (seed again)  --keep  --out file
 *
 * 1. The data set: bench/seed.ts into `sluice_seed_<events>` (kept and reused between runs: the
 *    same database the `queries` scenario uses for 10 M), cloned for this run
 *    (CREATE DATABASE … TEMPLATE, a file copy), and one heavy person added to the clone
 *    (seedPerson: their rows over every day, with dedup claims and rollups, and an identify that
 *    links an anonymousId).
 * 2. Real api and worker processes, as `npm run bench` starts them; ingestion load of
 *    POST /v1/batch (100 events) paced at half the end-to-end capacity, measured first.
 * 3. A baseline phase of that load alone, then the same load while the person's deletion is
 *    requested over HTTP and polled until done.
 * 4. Independent SQL checks: nothing of the person remains, everyone else's events are all there
 *    (plus what was ingested), the rollups still add up.
 * Writes bench/results/deletion.json and prints a markdown table. The clone is dropped at the end.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { BodyFactory } from './lib/events';
import { LoadResult, PacedSample, percentiles, runAutocannon, runPaced } from './lib/load';
import { pgPids } from './lib/pg-view';
import { histogramDelta, histogramQuantile, Scrape, scrape, sumOf } from './lib/prom';
import { Machine, machineInfo, printGrid } from './lib/report';
import { CpuAccounting, round } from './lib/sampling';
import { credentials, databaseUrl, deleteRedisPrefix, dropDatabase, freePort, Managed, randomToken, redisInfo, REDIS_URL, ROOT, sleep, SourceCredentials, waitReady, withClient } from './lib/stack';
import { PersonResult, seed, SeedResult, seedPerson } from './seed';

const PERSON = 'delbench-person';
const PERSON_ANON = 'delbench-person-anon';
const BATCH = 100;
const CONNECTIONS = 16;

interface Options {
  events: number;
  personEvents: number;
  days: number;
  rate: number | null;
  calibrateSeconds: number;
  baselineSeconds: number;
  deletionTimeoutSeconds: number;
  set: Record<string, string>;
  fresh: boolean;
  keep: boolean;
  out: string;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '5000000' },
      'person-events': { type: 'string', default: '300000' },
      days: { type: 'string', default: '30' },
      rate: { type: 'string' },
      'calibrate-seconds': { type: 'string', default: '10' },
      'baseline-seconds': { type: 'string', default: '30' },
      'deletion-timeout': { type: 'string', default: '1800' },
      set: { type: 'string', multiple: true, default: [] },
      fresh: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      out: { type: 'string', default: join(ROOT, 'bench', 'results', 'deletion.json') },
    },
  });
  const num = (name: string, v: string, min: number) => {
    const x = Number(v);
    if (!Number.isFinite(x) || x < min) throw new Error(`--${name} must be a number >= ${min}`);
    return x;
  };
  const set: Record<string, string> = {};
  for (const kv of values.set ?? []) {
    const [k, ...v] = kv.split('=');
    if (!k || v.length === 0) throw new Error('--set needs KEY=VALUE');
    set[k] = v.join('=');
  }
  return {
    events: Math.round(num('events', values.events!, 1000)),
    personEvents: Math.round(num('person-events', values['person-events']!, 1)),
    days: Math.round(num('days', values.days!, 1)),
    rate: values.rate === undefined ? null : num('rate', values.rate, 1),
    calibrateSeconds: num('calibrate-seconds', values['calibrate-seconds']!, 2),
    baselineSeconds: num('baseline-seconds', values['baseline-seconds']!, 5),
    deletionTimeoutSeconds: num('deletion-timeout', values['deletion-timeout']!, 10),
    set,
    fresh: values.fresh!,
    keep: values.keep!,
    out: values.out!,
  };
}

const fmt = (n: number) => n.toLocaleString('en-US');

// ---------------------------------------------------------------------------------------------

interface Stack {
  api: Managed;
  worker: Managed;
  adminKey: string;
  createSource: (name: string) => Promise<SourceCredentials>;
  monitor: Client;
  cpu: CpuAccounting;
}

function assertAlive(s: Stack): void {
  for (const p of [s.api, s.worker]) if (p.crashed) throw new Error(p.crashed);
}

const persisted = async (s: Stack) => sumOf(await scrape(s.worker.url), 'sluice_events_persisted_total');

/** Waits until the worker has committed `accepted` events more than `base` and its counter settled; then counts the source in PostgreSQL. */
async function drain(s: Stack, sourceId: string, base: number, accepted: number): Promise<{ stored: number; lastCommitAt: number }> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    assertAlive(s);
    const w = (await persisted(s)) - base;
    if (w !== last) {
      last = w;
      lastChange = Date.now();
    }
    const quiet = Date.now() - lastChange;
    if ((w >= accepted && quiet >= 1000) || quiet > 60_000) break;
    await sleep(100);
  }
  const { rows } = await s.monitor.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE source_id = $1', [sourceId]);
  return { stored: rows[0].n, lastCommitAt: lastChange };
}

async function api(s: Stack, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${s.api.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${s.adminKey}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

const writeHeaders = (src: SourceCredentials) => ({ 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from(`${src.writeKey}:`).toString('base64')}` });

/** Closed-loop batch load for a few seconds: the most events per second this stack persists end to end, here and now. */
async function calibrate(s: Stack, seconds: number, tag: string): Promise<{ eventsPerSecond: number; accepted: number; stored: number; seconds: number }> {
  const src = await s.createSource('bench-deletion-calibration');
  const bodies = BodyFactory.batch(`${tag}-cal`, BATCH);
  const base = await persisted(s);
  const load = await runAutocannon({ url: s.api.url, path: '/v1/batch', headers: writeHeaders(src), body: () => bodies.next(), connections: 10, durationSeconds: seconds, countAccepted: true });
  const { stored, lastCommitAt } = await drain(s, src.id, base, load.accepted);
  const secs = (lastCommitAt - load.startedAt) / 1000;
  return { eventsPerSecond: Math.round(stored / secs), accepted: load.accepted, stored, seconds: round(secs, 2) };
}

interface WindowStats {
  requests: number;
  ok: number;
  errors: number;
  latencyMs: LoadResult['latencyMs'];
  /** requests that took longer than a second */
  over1s: number;
  /** per second of the window: [second, requests due, slowest ms] */
  timeline: [number, number, number][];
}

function windowStats(samples: PacedSample[], from: number, to: number): WindowStats {
  const w = samples.filter((x) => x.dueAt >= from && x.dueAt <= to);
  const ok = w.filter((x) => x.status >= 200 && x.status < 300);
  const timeline: [number, number, number][] = [];
  for (const x of w) {
    const sec = Math.floor((x.dueAt - from) / 1000);
    const b = (timeline[sec] ??= [sec, 0, 0]);
    b[1]++;
    b[2] = Math.max(b[2], Math.round(x.ms));
  }
  return { requests: w.length, ok: ok.length, errors: w.length - ok.length, latencyMs: percentiles(ok.map((x) => x.ms)), over1s: w.filter((x) => x.ms > 1000).length, timeline: timeline.filter(Boolean) };
}

interface PipelineStats {
  lagSeconds: { p50: number | null; p99: number | null; count: number };
  serverMs: { p50: number | null; p99: number | null };
  /** the longest time the worker's committed-events counter stood still while load was offered */
  longestPersistStallSeconds: number;
}

function pipelineStats(a0: Scrape, a1: Scrape, w0: Scrape, w1: Scrape, stall: number): PipelineStats {
  const lag = histogramDelta(w0, w1, 'sluice_end_to_end_lag_seconds');
  const http = histogramDelta(a0, a1, 'http_request_duration_seconds', (l) => l.route?.startsWith('/v1/') && l.status_code === '200');
  const q = (v: number | null, k = 1) => (v === null ? null : round(v * k, 4));
  return {
    lagSeconds: { p50: q(histogramQuantile(lag, 0.5)), p99: q(histogramQuantile(lag, 0.99)), count: lag.count },
    serverMs: { p50: q(histogramQuantile(http, 0.5), 1000), p99: q(histogramQuantile(http, 0.99), 1000) },
    longestPersistStallSeconds: round(stall, 2),
  };
}

/** Watches the worker's committed-events counter: the longest interval it did not move. */
class StallWatch {
  private last = -1;
  private lastChange = Date.now();
  longest = 0;
  observe(count: number, at = Date.now()): void {
    if (count !== this.last) {
      if (this.last >= 0) this.longest = Math.max(this.longest, (at - this.lastChange) / 1000);
      this.last = count;
      this.lastChange = at;
    }
  }
}

interface PhaseOutcome {
  name: string;
  source: string;
  rate: number;
  load: LoadResult;
  window: WindowStats;
  pipeline: PipelineStats;
  stored: number;
  cpuSeconds: Record<string, number>;
  machineBusy: number;
}

interface DeletionOutcome {
  id: string;
  requestedAt: string;
  startedAt: string;
  finishedAt: string;
  /** finishedAt - startedAt, as the API reports them */
  seconds: number;
  /** from the POST to the poll that saw it done */
  secondsObserved: number;
  eventsPerSecond: number;
  attempts: number;
  verification: Record<string, any>;
  /** seconds from the request until the linked anonymousIds were found (before any partition) */
  linkedAfterSeconds: number | null;
  /** partitions done over time (from the polls) */
  progress: { t: number; partitionsDone: number; events: number }[];
}

/**
 * Paced load on a fresh source for `seconds`, or, with `during`, until `during` resolves (plus a
 * second); the window the figures are over is the whole phase, or what `during` returns.
 */
async function pacedPhase<T extends { from: number; to: number } | void>(
  s: Stack,
  name: string,
  rate: number,
  tag: string,
  o: { seconds: number; warmupSeconds?: number; during?: (tick: (w: Scrape) => void) => Promise<T> },
): Promise<{ outcome: PhaseOutcome; extra: T | undefined }> {
  assertAlive(s);
  const src = await s.createSource(`bench-deletion-${name}`);
  const bodies = BodyFactory.batch(`${tag}-${name}`, BATCH);
  const samples: PacedSample[] = [];
  const stall = new StallWatch();
  const [a0, w0] = await Promise.all([scrape(s.api.url), scrape(s.worker.url)]);
  const base = sumOf(w0, 'sluice_events_persisted_total');
  stall.observe(base);
  const cpu0 = await s.cpu.snapshot();
  let stopAt = Infinity;
  let extra: T | undefined;
  let windowScrapes: [Scrape, Scrape, Scrape, Scrape] | null = null;
  const loadP = runPaced({
    url: s.api.url,
    path: '/v1/batch',
    headers: writeHeaders(src),
    body: () => bodies.next(),
    connections: CONNECTIONS,
    durationSeconds: o.seconds,
    countAccepted: true,
    rate: rate / BATCH,
    until: () => Date.now() >= stopAt,
    onSample: (x) => samples.push(x),
  });
  const tick = (w: Scrape) => stall.observe(sumOf(w, 'sluice_events_persisted_total'));
  if (o.during) {
    try {
      for (const until = Date.now() + (o.warmupSeconds ?? 0) * 1000; Date.now() < until; ) {
        await sleep(250);
        tick(await scrape(s.worker.url));
      }
      const [a, w] = await Promise.all([scrape(s.api.url), scrape(s.worker.url)]);
      extra = await o.during(tick);
      windowScrapes = [a, await scrape(s.api.url), w, await scrape(s.worker.url)];
    } finally {
      stopAt = Date.now() + 1000;
    }
  } else {
    const watch = setInterval(() => void scrape(s.worker.url).then(tick, () => undefined), 250);
    await loadP.finally(() => clearInterval(watch));
  }
  const load = await loadP;
  const { stored } = await drain(s, src.id, base, load.accepted);
  const cpu1 = await s.cpu.snapshot();
  const [a1, w1] = await Promise.all([scrape(s.api.url), scrape(s.worker.url)]);
  const { cpu } = CpuAccounting.delta(cpu0, cpu1);
  const busy = Object.values(cpu).reduce((x, y) => x + y, 0);
  const win = extra ? (extra as { from: number; to: number }) : { from: load.startedAt, to: load.finishedAt };
  const [ba0, ba1, bw0, bw1] = windowScrapes ?? [a0, a1, w0, w1];
  return {
    outcome: {
      name,
      source: src.id,
      rate,
      load,
      window: windowStats(samples, win.from, win.to),
      pipeline: pipelineStats(ba0, ba1, bw0, bw1, stall.longest),
      stored,
      cpuSeconds: cpu,
      machineBusy: round(busy / (((cpu1.at - cpu0.at) / 1000) * os.cpus().length), 2),
    },
    extra,
  };
}

/** The checks in SQL of its own, independent of the verification record. */
async function census(c: Client, prefix: string): Promise<{ personEvents: number; personDedup: number; personUserDays: number; others: number; hourlyMismatches: number; uniquesMismatches: number }> {
  const one = async (sql: string, params: unknown[] = []) => Number((await c.query<{ n: string }>(sql, params)).rows[0].n);
  return {
    personEvents: await one('SELECT count(*) AS n FROM events WHERE user_id = $1 OR anonymous_id = $2', [PERSON, PERSON_ANON]),
    personDedup: await one(`SELECT count(*) AS n FROM event_dedup WHERE starts_with(message_id, $1)`, [prefix]),
    personUserDays: await one('SELECT count(*) AS n FROM event_users_daily WHERE user_key IN ($1, $2)', [PERSON, PERSON_ANON]),
    others: await one('SELECT count(*) AS n FROM events WHERE user_id IS DISTINCT FROM $1 AND anonymous_id IS DISTINCT FROM $2', [PERSON, PERSON_ANON]),
    // The rollups against the raw rows: hourly counts per source add up to the stored events...
    hourlyMismatches: await one(`
      SELECT count(*) AS n FROM (SELECT source_id, sum(n) AS n FROM event_counts_hourly GROUP BY 1) h
        FULL JOIN (SELECT source_id, count(*) AS n FROM events GROUP BY 1) e USING (source_id)
       WHERE coalesce(h.n, 0) <> coalesce(e.n, 0)`),
    // ...and each day's distinct users are the day's user-days.
    uniquesMismatches: await one(`
      SELECT count(*) AS n FROM event_uniques_daily u
        FULL JOIN (SELECT source_id, day, count(*) AS n FROM event_users_daily GROUP BY 1, 2) d USING (source_id, day)
       WHERE coalesce(u.users, 0) <> coalesce(d.n, 0)`),
  };
}

async function requestDeletion(s: Stack, timeoutSeconds: number, tick: (w: Scrape) => void, log: (l: string) => void): Promise<DeletionOutcome & { from: number; to: number }> {
  const from = Date.now();
  const created = await api(s, 'POST', '/v1/admin/privacy/deletions', { userId: PERSON });
  if (created.status !== 202) throw new Error(`POST /v1/admin/privacy/deletions answered ${created.status}: ${JSON.stringify(created.json)}`);
  const id: string = created.json.id;
  const progress: DeletionOutcome['progress'] = [];
  let linkedAfterSeconds: number | null = null;
  let lastLogged = 0;
  for (;;) {
    assertAlive(s);
    await sleep(500);
    tick(await scrape(s.worker.url));
    const r = await api(s, 'GET', `/v1/admin/privacy/deletions/${id}`);
    if (r.status !== 200) throw new Error(`GET deletion answered ${r.status}: ${JSON.stringify(r.json)}`);
    const d = r.json;
    const t = round((Date.now() - from) / 1000, 1);
    const p = { t, partitionsDone: d.progress?.partitionsDone ?? 0, events: d.progress?.removed?.events ?? 0 };
    if (linkedAfterSeconds === null && d.progress?.linkedAnonymousIds !== undefined) linkedAfterSeconds = t;
    if (progress.length === 0 || progress[progress.length - 1].partitionsDone !== p.partitionsDone || d.status === 'done') progress.push(p);
    if (t - lastLogged >= 10) {
      lastLogged = t;
      log(`    ${t} s: ${d.status}, partitions ${p.partitionsDone}/${d.progress?.partitionsTotal ?? '?'}, ${fmt(p.events)} events removed${d.lastError ? `; last error: ${d.lastError}` : ''}`);
    }
    if (d.status === 'done') {
      const to = Date.now();
      const seconds = (new Date(d.finishedAt).getTime() - new Date(d.startedAt).getTime()) / 1000;
      const removed = d.verification?.removed?.events ?? 0;
      return {
        id,
        requestedAt: new Date(from).toISOString(),
        startedAt: d.startedAt,
        finishedAt: d.finishedAt,
        seconds: round(seconds, 2),
        secondsObserved: round((to - from) / 1000, 2),
        eventsPerSecond: Math.round(removed / seconds),
        attempts: d.attempts,
        verification: d.verification,
        linkedAfterSeconds,
        progress,
        from,
        to,
      };
    }
    if (Date.now() - from > timeoutSeconds * 1000) throw new Error(`the deletion was not done after ${timeoutSeconds} s (progress ${JSON.stringify(d.progress)})`);
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const o = options();
  const log = (l: string) => console.log(l);
  const runId = `${Date.now().toString(36)}${randomToken(4).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`;
  const seedDb = o.days === 30 ? `sluice_seed_${o.events}` : `sluice_seed_${o.events}_${o.days}d`;
  const dbName = `sluice_delbench_${runId}`;
  const prefix = `sluice-delbench-${runId}`;
  const adminToken = randomToken(32);
  const runDir = mkdtempSync(join(os.tmpdir(), `sluice-delbench-${runId}-`));
  const failures: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) {
      failures.push(what);
      console.error(`  ! ${what}`);
    }
  };
  const startedAt = Date.now();
  log(`Sluice deletion bench — ${fmt(o.events)} events over ${o.days} days, a person with ${fmt(o.personEvents)}; run ${runId}; logs in ${runDir}`);

  let stack: Partial<Stack> = {};
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await Promise.all([stack.api?.stop(), stack.worker?.stop()].map((p) => p?.catch(() => undefined)));
    await stack.monitor?.end().catch(() => undefined);
    if (o.keep) log(`--keep: database ${dbName} and Redis keys ${prefix}* left in place`);
    else {
      await dropDatabase(dbName).catch((err: Error) => console.error(`could not drop ${dbName}: ${err.message}`));
      await deleteRedisPrefix(prefix).catch((err: Error) => console.error(`could not delete Redis keys ${prefix}*: ${err.message}`));
    }
  };
  const abort = (why: string) => {
    console.error(`\nbench aborted: ${why}`);
    void cleanup().finally(() => process.exit(1));
  };
  process.once('SIGINT', () => abort('interrupted (SIGINT)'));
  process.once('SIGTERM', () => abort('terminated (SIGTERM)'));

  let seeded: SeedResult | null = null;
  let cloneSeconds = 0;
  let person: PersonResult | null = null;
  let machine: Machine | null = null;
  let capacity: Awaited<ReturnType<typeof calibrate>> | null = null;
  let rate = 0;
  let baseline: PhaseOutcome | null = null;
  let during: PhaseOutcome | null = null;
  let deletion: DeletionOutcome | null = null;
  let before: Awaited<ReturnType<typeof census>> | null = null;
  let after: Awaited<ReturnType<typeof census>> | null = null;
  try {
    // --- the data set ------------------------------------------------------------------------
    log(`\n[seed] ${seedDb}`);
    seeded = await seed({ events: o.events, days: o.days, sources: 3, users: 100_000, database: seedDb, seed: 42, fresh: o.fresh, log: (l) => log(`  ${l.trim()}`) });
    if (seeded.events !== o.events) throw new Error(`${seedDb} holds ${fmt(seeded.events)} events, not ${fmt(o.events)}: drop it or pass --fresh`);
    if (!seeded.reused) log(`  seeded in ${seeded.seconds.toFixed(1)} s`);
    const t0 = Date.now();
    await withClient(databaseUrl('postgres'), (c) => c.query(`CREATE DATABASE "${dbName}" TEMPLATE "${seedDb}" STRATEGY FILE_COPY`));
    cloneSeconds = round((Date.now() - t0) / 1000, 1);
    log(`  cloned into ${dbName} in ${cloneSeconds} s`);
    person = await seedPerson({ database: dbName, userId: PERSON, anonymousId: PERSON_ANON, events: o.personEvents, seed: 42, log: (l) => log(`  ${l.trim()}`) });

    // --- the system under test -----------------------------------------------------------------
    const dbUrl = databaseUrl(dbName);
    const monitor = new Client({ connectionString: dbUrl, application_name: 'sluice-delbench-monitor' });
    await monitor.connect();
    stack.monitor = monitor;
    machine = await machineInfo(monitor, 'none');
    const env = { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', DATABASE_URL: dbUrl, REDIS_URL, QUEUE_PREFIX: prefix, ADMIN_TOKEN: adminToken, HOST: '127.0.0.1', REDIS_DURABILITY: 'none' };
    const [apiPort, workerPort] = [await freePort(), await freePort()];
    const mainJs = join(ROOT, 'dist', 'main.js');
    stack.api = new Managed('api', [mainJs], { ...env, ...o.set, ROLE: 'api', PORT: String(apiPort), RATE_LIMIT_RPS: '0', RATE_LIMIT_EPS: '0' }, join(runDir, 'api.log'), `http://127.0.0.1:${apiPort}`);
    stack.worker = new Managed('worker', [mainJs], { ...env, ...o.set, ROLE: 'worker', PORT: String(workerPort) }, join(runDir, 'worker.log'), `http://127.0.0.1:${workerPort}`);
    await Promise.all([waitReady(stack.api), waitReady(stack.worker)]);
    const creds = await credentials(stack.api.url, adminToken);
    const redisPid = (await redisInfo()).pid;
    const s: Stack = {
      ...(stack as Stack),
      adminKey: creds.adminKey,
      createSource: creds.createSource,
      cpu: new CpuAccounting(async () => ({
        api: stack.api?.pid ? [stack.api.pid] : [],
        worker: stack.worker?.pid ? [stack.worker.pid] : [],
        loadgen: [process.pid],
        postgres: await pgPids(monitor, dbName),
        redis: redisPid ? [redisPid] : [],
      })),
    };
    stack = s;
    log(`  api and worker ready; LIFECYCLE_BATCH_ROWS=${o.set.LIFECYCLE_BATCH_ROWS ?? '5000 (default)'}`);

    // --- load ----------------------------------------------------------------------------------
    if (o.rate === null) {
      log(`\n[capacity] POST /v1/batch (${BATCH} events), 10 connections, closed loop, ${o.calibrateSeconds} s`);
      capacity = await calibrate(s, o.calibrateSeconds, runId);
      rate = Math.max(BATCH, Math.round(capacity.eventsPerSecond / 2));
      log(`  ${fmt(capacity.stored)} events persisted in ${capacity.seconds} s = ${fmt(capacity.eventsPerSecond)} events/s end to end; offered load: half, ${fmt(rate)} events/s`);
    } else {
      rate = o.rate;
      log(`\n[load] a fixed ${fmt(rate)} events/s (--rate)`);
    }
    log(`\n[baseline] ${fmt(rate)} events/s paced (${(rate / BATCH).toFixed(1)} req/s x ${BATCH}), ${o.baselineSeconds} s, no deletion`);
    baseline = (await pacedPhase(s, 'baseline', rate, runId, { seconds: o.baselineSeconds })).outcome;
    log(`  HTTP p50 ${baseline.window.latencyMs.p50} ms, p99 ${baseline.window.latencyMs.p99} ms, max ${baseline.window.latencyMs.max} ms; lag p99 ${baseline.pipeline.lagSeconds.p99} s; ${baseline.window.errors} errors`);
    check(baseline.stored >= baseline.load.accepted, `baseline: ${baseline.stored} stored, ${baseline.load.accepted} accepted`);

    log('\n[census] before the deletion');
    before = await census(monitor, person.messageIdPrefix);
    log(`  the person: ${fmt(before.personEvents)} events, ${fmt(before.personDedup)} dedup claims, ${fmt(before.personUserDays)} user-days; everyone else: ${fmt(before.others)} events`);
    check(before.personEvents === o.personEvents, `the person holds ${before.personEvents} events before the deletion, not ${o.personEvents}`);
    check(before.hourlyMismatches === 0 && before.uniquesMismatches === 0, `rollups disagree with the raw rows before the deletion: ${JSON.stringify(before)}`);

    log(`\n[deletion] the same load; after 5 s, POST /v1/admin/privacy/deletions {userId: "${PERSON}"}, polled every 0.5 s`);
    const phase = await pacedPhase(s, 'deletion', rate, runId, {
      seconds: o.deletionTimeoutSeconds + 60,
      warmupSeconds: 5,
      during: (tick) => requestDeletion(s, o.deletionTimeoutSeconds, tick, log),
    });
    during = phase.outcome;
    const { from: _from, to: _to, ...d } = phase.extra!;
    deletion = d;
    const v = deletion.verification;
    log(`  done in ${deletion.seconds} s (${deletion.secondsObserved} s from the request): ${fmt(v.removed?.events ?? 0)} events = ${fmt(deletion.eventsPerSecond)} events/s; removed ${JSON.stringify(v.removed)}; remaining ${JSON.stringify(v.remaining)}`);
    log(`  HTTP during the deletion: p50 ${during.window.latencyMs.p50} ms, p99 ${during.window.latencyMs.p99} ms, max ${during.window.latencyMs.max} ms; lag p99 ${during.pipeline.lagSeconds.p99} s; ${during.window.errors} errors`);

    log('\n[census] after the deletion');
    after = await census(monitor, person.messageIdPrefix);
    log(`  the person: ${fmt(after.personEvents)} events, ${fmt(after.personDedup)} dedup claims, ${fmt(after.personUserDays)} user-days; everyone else: ${fmt(after.others)} events (${fmt(before.others)} + ${fmt(during.stored)} ingested)`);
    check(v.verified === true && v.remaining?.events === 0 && v.remaining?.dead_letters === 0, `verification record not verified: ${JSON.stringify(v)}`);
    check(v.removed?.events === before.personEvents, `verification says ${v.removed?.events} events removed, ${before.personEvents} were there`);
    check(v.removed?.event_dedup === before.personDedup, `verification says ${v.removed?.event_dedup} dedup claims removed, ${before.personDedup} were there`);
    check(after.personEvents === 0 && after.personDedup === 0 && after.personUserDays === 0, `rows of the person remain: ${JSON.stringify(after)}`);
    check(after.others === before.others + during.stored, `other events: ${after.others} after, ${before.others} before + ${during.stored} ingested`);
    check(during.stored >= during.load.accepted, `deletion phase: ${during.stored} stored, ${during.load.accepted} accepted`);
    check(after.hourlyMismatches === 0 && after.uniquesMismatches === 0, `rollups disagree with the raw rows after the deletion: ${JSON.stringify(after)}`);
    for (const p of [baseline, during]) check(p.window.errors === 0 && p.load.rejected === 0, `${p.name}: ${p.window.errors} failed requests, ${p.load.rejected} rejected events; e.g. ${p.load.sampleErrors[0] ?? ''}`);
  } catch (err) {
    failures.push(`harness error: ${(err as Error).stack ?? err}`);
    console.error(`\n${(err as Error).stack ?? err}`);
  } finally {
    await cleanup();
  }

  // --- report ----------------------------------------------------------------------------------
  if (machine) machine.loadAverageAtEnd = os.loadavg().map((x) => round(x, 2));
  const v = deletion?.verification;
  const row = (what: string, value: string | number | null | undefined, note = '') => [what, value ?? '–', note];
  const rows = [
    row('data set', seeded ? `${fmt(seeded.events)} events, ${o.days} days` : null, seeded?.reused ? `reused ${seedDb}` : seeded ? `seeded in ${seeded.seconds.toFixed(0)} s` : ''),
    row('the person', person ? `${fmt(person.events)} events` : null, person ? `${fmt(person.anonymousEvents)} under the linked anonymousId; added in ${person.seconds.toFixed(1)} s` : ''),
    row('rows removed: events', v?.removed?.events),
    row('rows removed: dedup claims', v?.removed?.event_dedup),
    row('rows removed: hourly counts', v?.removed?.event_counts_hourly, 'rows that fell to zero (the others lowered)'),
    row('rows removed: user-days', v?.removed?.event_users_daily, `${v?.removed?.event_uniques_daily ?? '–'} daily unique counts lowered`),
    row('deletion time', deletion ? `${deletion.seconds} s` : null, deletion ? `${deletion.secondsObserved} s from the request to the poll that saw it done; linked anonymousIds found after ${deletion.linkedAfterSeconds ?? '?'} s` : ''),
    row('events deleted per second', deletion ? fmt(deletion.eventsPerSecond) : null),
    row('offered ingestion load', rate ? `${fmt(rate)} events/s` : null, capacity ? `half the ${fmt(capacity.eventsPerSecond)} events/s measured first` : '--rate'),
    row('ingestion HTTP p99, baseline', baseline ? `${baseline.window.latencyMs.p99} ms` : null, baseline ? `p50 ${baseline.window.latencyMs.p50} ms, max ${baseline.window.latencyMs.max} ms, ${baseline.window.errors} errors of ${fmt(baseline.window.requests)}` : ''),
    row('ingestion HTTP p99, during the deletion', during ? `${during.window.latencyMs.p99} ms` : null, during ? `p50 ${during.window.latencyMs.p50} ms, max ${during.window.latencyMs.max} ms, ${during.window.errors} errors of ${fmt(during.window.requests)}` : ''),
    row('end-to-end lag p99, baseline / during', baseline && during ? `${baseline.pipeline.lagSeconds.p99} s / ${during.pipeline.lagSeconds.p99} s` : null, 'worker histogram, bucket-interpolated'),
    row('longest persist stall, baseline / during', baseline && during ? `${baseline.pipeline.longestPersistStallSeconds} s / ${during.pipeline.longestPersistStallSeconds} s` : null, "the worker's committed-events counter standing still under load"),
    row(
      'machine busy, baseline / during',
      baseline && during ? `${Math.round(baseline.machineBusy * 100)} % / ${Math.round(during.machineBusy * 100)} %` : null,
      baseline && during ? `CPU s of PostgreSQL ${baseline.cpuSeconds.postgres} / ${during.cpuSeconds.postgres}, of processes not ours ${baseline.cpuSeconds.other} / ${during.cpuSeconds.other}` : '',
    ),
    row('verification', v ? `verified ${v.verified}, remaining ${JSON.stringify(v.remaining)}` : null, v ? `${v.passes} pass(es), ${v.linkedAnonymousIds} linked anonymousId(s)` : ''),
    row('own SQL: person rows left', after ? `${after.personEvents} events, ${after.personDedup} dedup, ${after.personUserDays} user-days` : null),
    row('own SQL: everyone else', after && before && during ? `${fmt(after.others)} = ${fmt(before.others)} + ${fmt(during.stored)} ingested` : null, after ? `rollup mismatches: ${after.hourlyMismatches} hourly, ${after.uniquesMismatches} daily uniques` : ''),
  ];
  console.log(`\n${machine ? `${machine.cpus} x ${machine.cpuModel}, PostgreSQL ${machine.postgres}, Node ${machine.node}` : ''}\n`);
  console.log(printGrid(['figure', 'value', 'note'], rows));
  const report = {
    kind: 'deletion',
    settings: { events: o.events, days: o.days, personEvents: o.personEvents, seedDatabase: seedDb, rate, rateFrom: capacity ? 'half the measured capacity' : '--rate', batch: BATCH, connections: CONNECTIONS, baselineSeconds: o.baselineSeconds, sluiceEnv: { RATE_LIMIT_RPS: '0', RATE_LIMIT_EPS: '0', ...o.set } },
    machine,
    seed: seeded,
    cloneSeconds,
    person,
    capacity,
    baseline,
    during,
    deletion,
    census: { before, after },
    failures,
    durationSeconds: round((Date.now() - startedAt) / 1000, 1),
  };
  const strip = (p: PhaseOutcome | null) => p && { ...p, load: { ...p.load, sampleErrors: p.load.sampleErrors.slice(0, 3) } };
  writeFileSync(o.out, `${JSON.stringify({ ...report, baseline: strip(baseline), during: strip(during) }, null, 2)}\n`);
  console.log(`\nWrote ${o.out} (${report.durationSeconds} s).`);
  if (failures.length) {
    console.error(`\nFailed (${failures.length}):\n${failures.map((f) => `  - ${f}`).join('\n')}\nLogs kept in ${runDir}`);
    return 1;
  }
  rmSync(runDir, { recursive: true, force: true });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
