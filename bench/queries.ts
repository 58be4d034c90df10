/**
 * The `queries` scenario of `npm run bench`: the query API on a seeded data set (bench/seed.ts),
 * each question asked repeatedly over HTTP by one client, p50/p95 with the aggregate cache off
 * and then warm. The seeded database is kept between runs (`sluice_seed_<events>`); --smoke seeds
 * a small one and drops it.
 */
import { join } from 'node:path';
import { seed, SeedResult } from './seed';
import { databaseUrl, dropDatabase, freePort, Managed, randomToken, ROOT, sleep, waitReady, withClient } from './lib/stack';

export interface QueryFigure {
  name: string;
  request: string;
  targetMs: number;
  cold: { p50: number; p95: number; n: number };
  warm: { p50: number; p95: number; n: number };
}

export interface QueriesOutcome {
  seed: SeedResult;
  repetitions: number;
  figures: QueryFigure[];
}

const DAY = 86_400_000;

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))] * 100) / 100;
};

interface Question {
  name: string;
  targetMs: number;
  /** i: the repetition, so that the list asks about a different user each time. */
  request: (i: number) => { method: 'GET' | 'POST'; path: string; body?: object };
}

function questions(source: string, end: number, users: string[]): Question[] {
  const iso = (t: number) => new Date(t).toISOString();
  // Ranges of whole days, as a dashboard asks them (the data set's last, partial day left out).
  const to = Math.floor(end / DAY) * DAY;
  const d30 = iso(to - 30 * DAY);
  const base = `/v1/sources/${source}`;
  return [
    { name: 'events filtered by user, 100 newest', targetMs: 20, request: (i) => ({ method: 'GET', path: `${base}/events?userId=${users[i % users.length]}&limit=100` }) },
    { name: 'hourly counts, 30 days, by event', targetMs: 30, request: () => ({ method: 'GET', path: `${base}/stats/counts?from=${d30}&to=${iso(to)}&interval=hour&groupBy=event` }) },
    { name: 'daily uniques, 30 days', targetMs: 100, request: () => ({ method: 'GET', path: `${base}/stats/uniques?from=${d30}&to=${iso(to)}&interval=day` }) },
    { name: 'top events, 30 days', targetMs: 50, request: () => ({ method: 'GET', path: `${base}/stats/top-events?from=${d30}&to=${iso(to)}&limit=10` }) },
    {
      name: '3-step funnel, 7 days',
      targetMs: 1000,
      request: () => ({ method: 'POST', path: `${base}/stats/funnel`, body: { steps: [{ event: 'Product Viewed' }, { event: 'Product Added' }, { event: 'Order Completed' }], window: '1d', from: iso(to - 7 * DAY), to: iso(to) } }),
    },
    {
      name: '8-week retention',
      targetMs: 2000,
      request: () => ({ method: 'POST', path: `${base}/stats/retention`, body: { cohortEvent: 'Signed Up', returnEvent: 'Logged In', interval: 'week', periods: 8, from: iso(to - 56 * DAY), to: iso(to) } }),
    },
  ];
}

async function ask(url: string, key: string, q: ReturnType<Question['request']>): Promise<{ ms: number; cache: string | null }> {
  const t0 = process.hrtime.bigint();
  const res = await fetch(`${url}${q.path}`, {
    method: q.method,
    headers: { Authorization: `Bearer ${key}`, ...(q.body ? { 'Content-Type': 'application/json' } : {}) },
    body: q.body ? JSON.stringify(q.body) : undefined,
  });
  const text = await res.text();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (res.status !== 200) throw new Error(`${q.method} ${q.path} answered ${res.status}: ${text.slice(0, 300)}`);
  return { ms, cache: res.headers.get('x-sluice-cache') };
}

export async function scenarioQueries(o: { smoke: boolean; runDir: string; prefix: string; log: (l: string) => void }): Promise<QueriesOutcome> {
  const events = o.smoke ? 30_000 : 10_000_000;
  const database = o.smoke ? `sluice_seed_smoke_${randomToken(6).toLowerCase().replace(/[^a-z0-9]/g, 'x')}` : `sluice_seed_${events}`;
  const repetitions = o.smoke ? 3 : 30;
  o.log(`  data set: ${events.toLocaleString('en-US')} events, 30 days, 3 sources, ${o.smoke ? '2,000' : '100,000'} users in ${database}`);
  const data = await seed({ events, days: 30, sources: 3, users: o.smoke ? 2000 : 100_000, database, seed: 42, fresh: o.smoke, log: o.log });
  if (!data.reused) o.log(`  seeded in ${data.seconds.toFixed(0)} s`);
  try {
    const to = Date.parse(data.to);
    const source = data.sources[0];
    // Users of middling activity: the list's typical question, not the heaviest user's.
    const users = await withClient(databaseUrl(database), async (c) =>
      (await c.query<{ u: string }>(`SELECT user_id AS u FROM events WHERE source_id = $1 AND user_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC OFFSET 100 LIMIT 50`, [source])).rows.map((r) => r.u),
    );
    const figures: QueryFigure[] = questions(source, to, users.length ? users : ['user-1']).map((q) => ({ name: q.name, request: '', targetMs: q.targetMs, cold: { p50: 0, p95: 0, n: 0 }, warm: { p50: 0, p95: 0, n: 0 } }));
    for (const phase of ['cold', 'warm'] as const) {
      const adminToken = randomToken(32);
      const port = await freePort();
      const api = new Managed(
        `api-queries-${phase}`,
        [join(ROOT, 'dist', 'main.js')],
        {
          ...process.env,
          NODE_ENV: 'production',
          LOG_LEVEL: 'warn',
          ROLE: 'api',
          PORT: String(port),
          HOST: '127.0.0.1',
          DATABASE_URL: databaseUrl(database),
          QUEUE_PREFIX: `${o.prefix}-q${phase}`,
          ADMIN_TOKEN: adminToken,
          API_RATE_LIMIT_RPS: '0',
          REDIS_DURABILITY: 'none',
          QUERY_CACHE_TTL_MS: phase === 'cold' ? '0' : '600000',
        },
        join(o.runDir, `api-queries-${phase}.log`),
        `http://127.0.0.1:${port}`,
      );
      try {
        await waitReady(api);
        // ADMIN_TOKEN only bootstraps admin keys; an admin key reads every source.
        const keyRes = await fetch(`${api.url}/v1/admin/keys`, { method: 'POST', headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' }, body: '{"kind":"admin","name":"bench-queries"}' });
        if (keyRes.status !== 201) throw new Error(`POST /v1/admin/keys answered ${keyRes.status}: ${await keyRes.text()}`);
        const key = ((await keyRes.json()) as { key: string }).key;
        const qs = questions(source, to, users.length ? users : ['user-1']);
        for (const [i, q] of qs.entries()) {
          // One unmeasured call: connections, the prepared plan and (warm) the cache entry.
          await ask(api.url, key, q.request(0));
          const times: number[] = [];
          for (let r = 1; r <= repetitions; r++) times.push((await ask(api.url, key, q.request(r))).ms);
          figures[i][phase] = { p50: quantile(times, 0.5), p95: quantile(times, 0.95), n: times.length };
          const req = q.request(0);
          figures[i].request = `${req.method} ${req.path.replace(source, ':sourceId')}${req.body ? ` ${JSON.stringify(req.body)}` : ''}`;
          o.log(`  ${phase.padEnd(4)} ${q.name.padEnd(38)} p50 ${String(figures[i][phase].p50).padStart(8)} ms   p95 ${String(figures[i][phase].p95).padStart(8)} ms   (target p95 < ${q.targetMs} ms, cache off)`);
        }
      } finally {
        await api.stop();
        await sleep(100);
      }
    }
    return { seed: data, repetitions, figures };
  } finally {
    if (o.smoke) await dropDatabase(database).catch(() => undefined);
  }
}
