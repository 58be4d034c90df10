/**
 * `npm run seed -- --events 10000000 --days 30 --sources 3 --users 100000 [--database sluice_seed] [--fresh]`
 *
 * Fills a database with realistic events fast: COPY straight into `events` (the daily partitions
 * made first), then the dedup claims and the rollups (`event_counts_hourly`,
 * `event_users_daily`, `event_uniques_daily`) computed from the stored rows, exactly as the worker would have kept them.
 * Realistic means skewed: user activity follows a Zipf law (a few heavy users, a long tail of
 * light ones), traffic follows the time of day, some visitors stay anonymous, and a
 * Product Viewed → Product Added → Checkout Started → Order Completed funnel converts step by
 * step within minutes. Deterministic for a given --seed.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { BASE_DATABASE_URL, databaseUrl, migrate, withClient } from './lib/stack';
import { rng } from './lib/random';

export interface SeedOptions {
  events: number;
  days: number;
  sources: number;
  users: number;
  database: string;
  seed: number;
  fresh: boolean;
  /** The data set ends here (default: now, rounded down to the hour). */
  end?: Date;
  log?: (line: string) => void;
}

export interface SeedResult {
  database: string;
  url: string;
  sources: string[];
  events: number;
  from: string;
  to: string;
  seconds: number;
  reused: boolean;
}

const DAY = 86_400_000;
const TRACK_NAMES: [string, number][] = [
  ['Product Viewed', 30],
  ['Button Clicked', 18],
  ['Products Searched', 14],
  ['Video Played', 8],
  ['Signed Up', 3],
  ['Logged In', 9],
  ['Invite Sent', 2],
];
const PAGES = ['Home', 'Pricing', 'Docs', 'Blog', 'Product'];
const PLANS: [string, number][] = [['free', 70], ['pro', 22], ['team', 8]];
const LIBRARIES: [string, number][] = [['analytics.js', 70], ['analytics-node', 20], ['rudder-sdk-js', 10]];
// Share of traffic per UTC hour: quiet nights, busy afternoons.
const HOURS = Array.from({ length: 24 }, (_, h) => 1 + 0.9 * Math.sin(((h - 8) / 24) * 2 * Math.PI));


/** Samples index i with probability weights[i] / sum (binary search on the cumulative sums). */
function sampler(weights: number[], random: () => number): () => number {
  const cdf = new Float64Array(weights.length);
  let sum = 0;
  weights.forEach((w, i) => (cdf[i] = sum += w));
  return () => {
    const x = random() * sum;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

// COPY text format: backslash, tab, newline and carriage return escaped; \N is NULL.
const esc = (s: string) => s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
const cell = (v: string | null | undefined) => (v === null || v === undefined ? '\\N' : esc(v));
const COLUMNS = 'source_id, message_id, type, event, name, user_id, anonymous_id, "timestamp", sent_at, received_at, properties, context';

/** One row of `events` in COPY text (COLUMNS order). */
function copyLine(r: { sourceId: string; messageId: string; type: string; event: string | null; name: string | null; userId: string | null; anonymousId: string | null; t: number; properties: object; library: string; u: number }): string {
  const ts = new Date(r.t).toISOString();
  const context = { library: { name: r.library, version: '4.1.0' }, ip: `10.0.${r.u % 250}.${(r.u >> 8) % 250}`, userAgent: 'Mozilla/5.0 (seed)' };
  return `${r.sourceId}\t${cell(r.messageId)}\t${r.type}\t${cell(r.event)}\t${cell(r.name)}\t${cell(r.userId)}\t${cell(r.anonymousId)}\t${ts}\t${ts}\t${ts}\t${esc(JSON.stringify(r.properties))}\t${esc(JSON.stringify(context))}\n`;
}

function* generate(o: SeedOptions, sourceId: string, sourceNo: number, from: number): Generator<string> {
  const random = rng(o.seed * 1000 + sourceNo);
  // Zipf (s = 1): the k-th most active user is k times less active than the first.
  const user = sampler(Array.from({ length: o.users }, (_, k) => 1 / (k + 1)), random);
  const hour = sampler(HOURS, random);
  const trackName = sampler(TRACK_NAMES.map(([, w]) => w), random);
  const plan = sampler(PLANS.map(([, w]) => w), random);
  const library = sampler(LIBRARIES.map(([, w]) => w), random);
  const perSource = Math.floor(o.events / o.sources) + (sourceNo < o.events % o.sources ? 1 : 0);
  let n = 0;
  const line = (type: string, event: string | null, name: string | null, u: number, anonymous: boolean, t: number, properties: object) =>
    copyLine({ sourceId, messageId: `seed-${sourceNo}-${n++}`, type, event, name, userId: anonymous ? null : `user-${u}`, anonymousId: anonymous ? `anon-${u}` : null, t, properties, library: LIBRARIES[library()][0], u });
  while (n < perSource) {
    const u = user();
    const anonymous = u > o.users / 2 && random() < 0.3; // light users often never log in
    const t = from + Math.floor(random() * o.days) * DAY + hour() * 3_600_000 + Math.floor(random() * 3_600_000);
    const p = PLANS[plan()][0];
    const kind = random();
    if (kind < 0.25) yield line('page', null, PAGES[Math.floor(random() * PAGES.length)], u, anonymous, t, { path: '/', plan: p });
    else if (kind < 0.3) yield line('identify', null, null, u, anonymous, t, {});
    else {
      const name = TRACK_NAMES[trackName()][0];
      yield line('track', name, null, u, anonymous, t, { plan: p, product_id: `p-${Math.floor(random() * 500)}` });
      if (name !== 'Product Viewed') continue;
      // The funnel: each step follows the previous one within minutes, fewer users at each.
      let at = t;
      for (const [step, rate] of [['Product Added', 0.35], ['Checkout Started', 0.55], ['Order Completed', 0.65]] as const) {
        if (n >= perSource || random() >= rate) break;
        at += 10_000 + Math.floor(random() * 600_000);
        yield line('track', step, null, u, anonymous, at, step === 'Order Completed' ? { plan: p, revenue: Math.round(random() * 20000) / 100 } : { plan: p });
      }
    }
  }
}

/** Lines joined into chunks: COPY is fed megabytes, not lines. */
function chunks(lines: Generator<string>): Readable {
  return Readable.from(
    (function* () {
      let buf = '';
      for (const l of lines) {
        buf += l;
        if (buf.length > 1 << 20) {
          yield buf;
          buf = '';
        }
      }
      if (buf) yield buf;
    })(),
  );
}

export async function seed(o: SeedOptions): Promise<SeedResult> {
  const log = o.log ?? ((l: string) => console.log(l));
  const started = Date.now();
  const end = Math.floor((o.end ?? new Date()).getTime() / 3_600_000) * 3_600_000;
  const from = Math.floor((end - o.days * DAY) / DAY) * DAY;
  const url = databaseUrl(o.database);
  const exists = await withClient(databaseUrl('postgres'), async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [o.database])).rowCount === 1);
  if (exists && o.fresh) await withClient(databaseUrl('postgres'), (c) => c.query(`DROP DATABASE "${o.database}" WITH (FORCE)`));
  if (!exists || o.fresh) await withClient(databaseUrl('postgres'), (c) => c.query(`CREATE DATABASE "${o.database}"`));
  log(`  ${await migrate({ ...process.env, DATABASE_URL: url })}`);
  const db = new Client({ connectionString: url, application_name: 'sluice-seed' });
  await db.connect();
  try {
    const [{ n: already }] = (await db.query<{ n: string }>('SELECT count(*) AS n FROM (SELECT 1 FROM events LIMIT 1) t')).rows;
    if (Number(already) > 0) {
      const sources = (await db.query<{ id: string }>(`SELECT id FROM sources WHERE name LIKE 'seed-%' ORDER BY name`)).rows.map((r) => r.id);
      const span = (await db.query<{ lo: Date; hi: Date; n: string }>('SELECT min("timestamp") AS lo, max("timestamp") AS hi, count(*) AS n FROM events')).rows[0];
      log(`  ${o.database} already holds ${Number(span.n).toLocaleString('en-US')} events: reused (--fresh to seed again)`);
      return { database: o.database, url, sources, events: Number(span.n), from: span.lo.toISOString(), to: span.hi.toISOString(), seconds: 0, reused: true };
    }
    // Logged COPY into an empty table still writes WAL; synchronous_commit off only for this session.
    await db.query(`SET synchronous_commit = off`);
    await db.query(`SELECT sluice_ensure_event_partition(d::date) FROM generate_series($1::date, $2::date + 1, interval '1 day') AS d`, [new Date(from).toISOString().slice(0, 10), new Date(end).toISOString().slice(0, 10)]);
    const sources: string[] = [];
    for (let s = 0; s < o.sources; s++) {
      sources.push((await db.query<{ id: string }>(`INSERT INTO sources (name) VALUES ($1) RETURNING id`, [`seed-${s + 1}`])).rows[0].id);
    }
    for (const [s, id] of sources.entries()) {
      const t0 = Date.now();
      await pipeline(chunks(generate(o, id, s, from)), db.query(copyFrom(`COPY events (${COLUMNS}) FROM STDIN`)));
      log(`  source ${s + 1}/${o.sources}: events copied in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    const step = async (what: string, sql: string) => {
      const t0 = Date.now();
      await db.query(sql);
      log(`  ${what} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    };
    for (const [what, sql] of derivedRows('events')) await step(what, sql);
    // VACUUM too, as autovacuum would have long since on a database this size: it sets the
    // visibility map, without which the rollups' index-only scans read the heap (a fresh seed's
    // 8-week retention query took over 10 s instead of about 3).
    await step('VACUUM (ANALYZE)', 'VACUUM (ANALYZE)');
    const [{ n }] = (await db.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows;
    return { database: o.database, url, sources, events: Number(n), from: new Date(from).toISOString(), to: new Date(end).toISOString(), seconds: (Date.now() - started) / 1000, reused: false };
  } finally {
    await db.end();
  }
}

/**
 * The dedup claims and rollups of the rows in `rows` (`events`, or a staging table of rows just
 * added to it), computed from the stored rows as the worker would have kept them. On top of
 * existing rollups: hourly counts are added to, user-days kept once, and the distinct-user
 * count of each day the rows touch is counted again from event_users_daily.
 */
function derivedRows(rows: string): [string, string][] {
  const days = rows === 'events' ? '' : ` WHERE (source_id, day) IN (SELECT DISTINCT source_id, ("timestamp" AT TIME ZONE 'UTC')::date FROM ${rows})`;
  return [
    ['dedup claims', `INSERT INTO event_dedup (source_id, message_id, event_timestamp, first_seen_at) SELECT source_id, message_id, "timestamp", received_at FROM ${rows}`],
    [
      'hourly counts',
      `INSERT INTO event_counts_hourly (source_id, hour, type, event, n) SELECT source_id, date_trunc('hour', "timestamp", 'UTC'), type, coalesce(event, ''), count(*) FROM ${rows} GROUP BY 1, 2, 3, 4
       ON CONFLICT (source_id, hour, type, event) DO UPDATE SET n = event_counts_hourly.n + excluded.n`,
    ],
    [
      'daily active users',
      `INSERT INTO event_users_daily (source_id, day, user_key) SELECT DISTINCT source_id, ("timestamp" AT TIME ZONE 'UTC')::date, coalesce(user_id, anonymous_id) FROM ${rows} WHERE coalesce(user_id, anonymous_id) IS NOT NULL
       ON CONFLICT DO NOTHING`,
    ],
    ['daily unique counts', `INSERT INTO event_uniques_daily (source_id, day, users) SELECT source_id, day, count(*) FROM event_users_daily${days} GROUP BY 1, 2 ON CONFLICT (source_id, day) DO UPDATE SET users = excluded.users`],
  ];
}

export interface PersonOptions {
  /** A seeded database (seed() first). */
  database: string;
  userId: string;
  /** Linked to userId by one identify event; a tenth of the person's other events carry it alone (before they logged in). */
  anonymousId: string;
  events: number;
  seed: number;
  log?: (line: string) => void;
}

export interface PersonResult {
  userId: string;
  anonymousId: string;
  events: number;
  anonymousEvents: number;
  messageIdPrefix: string;
  from: string;
  to: string;
  seconds: number;
}

/**
 * Adds one heavy person to a seeded database: `events` rows spread evenly over every day (and
 * every seed source) of the data set, COPYed into a staging table, moved into `events`, and
 * their dedup claims and rollups added as seed() computes them; one transaction.
 */
export async function seedPerson(o: PersonOptions): Promise<PersonResult> {
  const log = o.log ?? ((l: string) => console.log(l));
  const started = Date.now();
  const db = new Client({ connectionString: databaseUrl(o.database), application_name: 'sluice-seed-person' });
  await db.connect();
  try {
    const sources = (await db.query<{ id: string }>(`SELECT id FROM sources WHERE name LIKE 'seed-%' ORDER BY name`)).rows.map((r) => r.id);
    if (sources.length === 0) throw new Error(`${o.database} has no seed sources: seed it first`);
    // The data set's span (one scan of events: a few seconds per ten million rows).
    const span = (await db.query<{ lo: Date; hi: Date }>('SELECT min("timestamp") AS lo, max("timestamp") AS hi FROM events')).rows[0];
    const from = span.lo.getTime();
    const width = span.hi.getTime() - from;
    const random = rng(o.seed * 1000 + 999);
    const trackName = sampler(TRACK_NAMES.map(([, w]) => w), random);
    const prefix = `${o.userId}-`;
    let anonymousEvents = 0;
    const lines = function* (): Generator<string> {
      for (let n = 0; n < o.events; n++) {
        const t = from + Math.floor(random() * width);
        const base = { sourceId: sources[n % sources.length], messageId: `${prefix}${n}`, t, library: LIBRARIES[0][0], u: 7 };
        const identify = n === 0;
        const anonymous = !identify && random() < 0.1;
        if (anonymous) anonymousEvents++;
        const who = { userId: anonymous ? null : o.userId, anonymousId: anonymous || identify ? o.anonymousId : null };
        const kind = random();
        if (identify || kind < 0.05) yield copyLine({ ...base, ...who, type: 'identify', event: null, name: null, properties: {} });
        else if (kind < 0.3) yield copyLine({ ...base, ...who, type: 'page', event: null, name: PAGES[n % PAGES.length], properties: { path: '/', plan: 'pro' } });
        else yield copyLine({ ...base, ...who, type: 'track', event: TRACK_NAMES[trackName()][0], name: null, properties: { plan: 'pro', product_id: `p-${n % 500}` } });
      }
    };
    await db.query('SET synchronous_commit = off');
    await db.query('BEGIN');
    await db.query('CREATE TEMP TABLE seed_person_rows (LIKE events) ON COMMIT DROP');
    await pipeline(chunks(lines()), db.query(copyFrom(`COPY seed_person_rows (${COLUMNS}) FROM STDIN`)));
    await db.query(`INSERT INTO events SELECT * FROM seed_person_rows`);
    for (const [, sql] of derivedRows('seed_person_rows')) await db.query(sql);
    await db.query('COMMIT');
    await db.query('ANALYZE events');
    const seconds = (Date.now() - started) / 1000;
    log(`  person ${o.userId}: ${o.events.toLocaleString('en-US')} events (${anonymousEvents.toLocaleString('en-US')} under ${o.anonymousId} alone), dedup claims and rollups, in ${seconds.toFixed(1)} s`);
    return { userId: o.userId, anonymousId: o.anonymousId, events: o.events, anonymousEvents, messageIdPrefix: prefix, from: new Date(from).toISOString(), to: span.hi.toISOString(), seconds };
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await db.end();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '1000000' },
      days: { type: 'string', default: '30' },
      sources: { type: 'string', default: '3' },
      users: { type: 'string', default: '100000' },
      database: { type: 'string', default: 'sluice_seed' },
      seed: { type: 'string', default: '42' },
      fresh: { type: 'boolean', default: false },
    },
  });
  const num = (name: string, v: string, min: number) => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < min) throw new Error(`--${name} must be a whole number >= ${min}`);
    return x;
  };
  const o: SeedOptions = {
    events: num('events', values.events!, 1),
    days: num('days', values.days!, 1),
    sources: num('sources', values.sources!, 1),
    users: num('users', values.users!, 1),
    database: values.database!,
    seed: num('seed', values.seed!, 0),
    fresh: values.fresh!,
  };
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(o.database)) throw new Error('--database must be a lower-case PostgreSQL name');
  console.log(`Seeding ${o.events.toLocaleString('en-US')} events over ${o.days} days, ${o.sources} sources, ${o.users.toLocaleString('en-US')} users into ${o.database} (${new URL(BASE_DATABASE_URL).host})`);
  const r = await seed(o);
  console.log(JSON.stringify(r, null, 2));
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
