import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config';
import { EventFilters, Where } from './events-query.repository';
import { QueryDatabase } from './query-database';
import { Interval, Range, rollupSpan } from './time-buckets';

export interface CountsQuery extends EventFilters {
  sourceId: string;
  range: Range;
  interval: Interval;
  tz: string;
  groupBy?: 'event' | 'type';
}

export interface FunnelStep {
  event: string;
  properties?: Record<string, string | number | boolean>;
}

export interface CountRow {
  start: Date;
  n: string;
  /** With groupBy: count per event name or type (non-zero only). */
  groups: Record<string, number> | null;
}

const DAY = 86_400_000;
/** Zones whose days are UTC days all year, so the UTC-day user rollup answers them. */
const UTC_ZONES = new Set(['UTC', 'Etc/UTC', 'GMT', 'Etc/GMT', 'Zulu']);

/** The whole UTC days inside a range, or null when there are none. */
function wholeDays(range: Range): { from: string; to: string; fromTime: Date; toTime: Date } | null {
  const lo = Math.ceil(range.from.getTime() / DAY) * DAY;
  const hi = Math.floor(range.to.getTime() / DAY) * DAY;
  if (lo >= hi) return null;
  const iso = (t: number) => new Date(t).toISOString().slice(0, 10);
  return { from: iso(lo), to: iso(hi), fromTime: new Date(lo), toTime: new Date(hi) };
}

// Only track calls have an event name, so `event = ...` needs no `type = 'track'` beside it, and
// without one the (source_id, event, timestamp) INCLUDE (user_id, anonymous_id) index answers
// funnels, retention and distinct users per event by index-only scans.

/** Only these filters exist in the rollup; any other sends the query to raw rows. */
const rollupFilters = (f: EventFilters) => !f.userId && !f.anonymousId && !(f.fields && f.fields.length);

/**
 * The stats SQL. Whole UTC hours come from `event_counts_hourly` (kept in the insert
 * transaction), the partial hours at the edges of the range and anything the rollup cannot
 * answer from raw events; buckets are made in the requested zone, so a day is a local day and
 * DST days have 23 or 25 hours.
 */
@Injectable()
export class StatsRepository {
  constructor(
    private readonly db: QueryDatabase,
    private readonly config: AppConfig,
  ) {}

  /** The rows counted per (bucket, key), from rollups and raw events; `w` gets the shared parameters. */
  private countedSource(q: Omit<CountsQuery, 'interval' | 'tz' | 'groupBy'> & { interval: Interval; tz: string }, w: Where, keyOf: (t: 'raw' | 'rollup') => string): string {
    const span = this.config.query.rollups && rollupFilters(q) ? rollupSpan(q.range, q.interval, q.tz) : null;
    const source = w.param(q.sourceId);
    const raw = (from: Date, to: Date) => {
      const rw = new Where(w.params).filters(q);
      return `SELECT "timestamp" AS ts, ${keyOf('raw')} AS key, 1::bigint AS n FROM events
               WHERE source_id = ${source} AND "timestamp" >= ${w.param(from)} AND "timestamp" < ${w.param(to)} AND ${rw.sql}`;
    };
    if (!span) return raw(q.range.from, q.range.to);
    const rollup = new Where(w.params);
    if (q.type) rollup.add('type = ?', q.type);
    if (q.event) rollup.add('event = ?', q.event);
    const parts = [
      `SELECT hour AS ts, ${keyOf('rollup')} AS key, n FROM event_counts_hourly
        WHERE source_id = ${source} AND hour >= ${w.param(span.from)} AND hour < ${w.param(span.to)} AND ${rollup.sql}`,
    ];
    if (q.range.from < span.from) parts.push(raw(q.range.from, span.from));
    if (span.to < q.range.to) parts.push(raw(span.to, q.range.to));
    return parts.join('\n UNION ALL\n');
  }

  /** Distinct users (userId, else anonymousId) per bucket; whole UTC days from the daily rollup when the zone is UTC. */
  uniques(q: { sourceId: string; range: Range; interval: Interval; tz: string }): Promise<{ start: Date; users: string }[]> {
    const w = new Where();
    const source = w.param(q.sourceId);
    const iv = w.param(q.interval);
    const tz = w.param(q.tz);
    const raw = (from: Date, to: Date) =>
      `SELECT date_trunc(${iv}, "timestamp" AT TIME ZONE ${tz}) AS b, coalesce(user_id, anonymous_id) AS u FROM events
        WHERE source_id = ${source} AND "timestamp" >= ${w.param(from)} AND "timestamp" < ${w.param(to)} AND coalesce(user_id, anonymous_id) IS NOT NULL`;
    const days = this.config.query.rollups && q.interval !== 'hour' && q.interval !== 'minute' && UTC_ZONES.has(q.tz) ? wholeDays(q.range) : null;
    const edges = (d: NonNullable<typeof days>) => [
      ...(q.range.from < d.fromTime ? [raw(q.range.from, d.fromTime)] : []),
      ...(d.toTime < q.range.to ? [raw(d.toTime, q.range.to)] : []),
    ];
    let agg: string;
    if (!days) agg = `SELECT b, count(DISTINCT u) AS users FROM (${raw(q.range.from, q.range.to)}) r GROUP BY b`;
    else if (q.interval === 'day') {
      // Whole days: their count, kept as users were first seen that day. A partial day at an
      // edge is a bucket of its own, counted from raw events.
      const e = edges(days);
      agg = [
        `SELECT day::timestamp AS b, users FROM event_uniques_daily WHERE source_id = ${source} AND day >= ${w.param(days.from)}::date AND day < ${w.param(days.to)}::date`,
        ...(e.length ? [`SELECT b, count(DISTINCT u) AS users FROM (${e.join(' UNION ALL ')}) r GROUP BY b`] : []),
      ].join('\n UNION ALL\n');
    } else {
      // Weeks and months: distinct over the days' user sets (and the edges' raw users).
      const active = [
        `SELECT date_trunc(${iv}, day::timestamp) AS b, user_key AS u FROM event_users_daily
          WHERE source_id = ${source} AND day >= ${w.param(days.from)}::date AND day < ${w.param(days.to)}::date`,
        ...edges(days),
      ];
      agg = `SELECT b, count(DISTINCT u) AS users FROM (${active.join('\n UNION ALL\n')}) r GROUP BY b`;
    }
    return this.db.read(
      `WITH agg AS (${agg}),
       ${this.series(w, q, iv, tz)}
       SELECT s.b AT TIME ZONE ${tz} AS start, coalesce(a.users, 0)::text AS users
         FROM series s LEFT JOIN agg a ON a.b = s.b ORDER BY s.b`,
      w.params,
    );
  }

  /**
   * Users reaching each step in order, each step after the previous one and within `windowSeconds`
   * of the user's first step-1 event in the range. One scan of the steps' events; a user's path is
   * followed greedily from that first step 1.
   */
  funnel(q: { sourceId: string; range: Range; windowSeconds: number; steps: FunnelStep[] }): Promise<{ step: number; users: string; median_seconds: number | null }[]> {
    const w = new Where();
    const source = w.param(q.sourceId);
    const window = w.param(`${q.windowSeconds} seconds`);
    const matches = q.steps.map((st, i) => `CASE WHEN event = ${w.param(st.event)}${st.properties ? ` AND properties @> ${w.param(JSON.stringify(st.properties))}::jsonb` : ''} THEN ${i + 1} END`);
    const names = w.param([...new Set(q.steps.map((st) => st.event))]);
    const from = w.param(q.range.from);
    const to = w.param(q.range.to);
    const ctes = [
      `ev AS MATERIALIZED (
         SELECT coalesce(user_id, anonymous_id) AS u, "timestamp" AS ts, s
           FROM events, unnest(ARRAY[${matches.join(', ')}]) AS s
          WHERE source_id = ${source} AND event = ANY(${names}::text[])
            AND "timestamp" >= ${from} AND "timestamp" < ${to}::timestamptz + ${window}::interval
            AND s IS NOT NULL AND coalesce(user_id, anonymous_id) IS NOT NULL
       )`,
      `s1 AS (SELECT u, min(ts) AS start, NULL::timestamptz AS prev, min(ts) AS t FROM ev WHERE s = 1 AND ts < ${to} GROUP BY u)`,
    ];
    for (let k = 2; k <= q.steps.length; k++) {
      ctes.push(`s${k} AS (
         SELECT p.u, p.start, p.t AS prev, min(ev.ts) AS t FROM s${k - 1} p
           JOIN ev ON ev.u = p.u AND ev.s = ${k} AND ev.ts > p.t AND ev.ts <= p.start + ${window}::interval
          GROUP BY p.u, p.start, p.t
       )`);
    }
    const selects = q.steps.map(
      (_, i) => `SELECT ${i + 1} AS step, count(*)::text AS users, ${i === 0 ? 'NULL::float8' : 'percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t - prev))::float8'} AS median_seconds FROM s${i + 1}`,
    );
    return this.db.read(`WITH ${ctes.join(',\n')}\n${selects.join('\n UNION ALL\n')}\n ORDER BY step`, w.params);
  }

  /**
   * Cohorts by the bucket (day or week of `tz`) of each user's first `cohortEvent` in the range,
   * and how many of each cohort did `returnEvent` in each of the `periods` buckets after it.
   */
  retention(q: { sourceId: string; range: Range; interval: 'day' | 'week'; periods: number; tz: string; cohortEvent: string; returnEvent: string }): Promise<{ start: Date; users: string; period: number | null; returned: string | null }[]> {
    const w = new Where();
    const source = w.param(q.sourceId);
    const iv = w.param(q.interval);
    const tz = w.param(q.tz);
    const days = q.interval === 'week' ? 7 : 1;
    // Returns are looked for up to `periods` buckets past the last cohort (a day more for DST).
    const returnEnd = new Date(q.range.to.getTime() + (q.periods + 1) * days * 86_400_000);
    return this.db.read(
      `WITH first AS (
         SELECT coalesce(user_id, anonymous_id) AS u, min("timestamp") AS t FROM events
          WHERE source_id = ${source} AND event = ${w.param(q.cohortEvent)}
            AND "timestamp" >= ${w.param(q.range.from)} AND "timestamp" < ${w.param(q.range.to)} AND coalesce(user_id, anonymous_id) IS NOT NULL
          GROUP BY 1
       ),
       cohort AS (SELECT u, date_trunc(${iv}, t AT TIME ZONE ${tz}) AS c FROM first),
       ret AS (
         SELECT DISTINCT coalesce(user_id, anonymous_id) AS u, date_trunc(${iv}, "timestamp" AT TIME ZONE ${tz}) AS p FROM events
          WHERE source_id = ${source} AND event = ${w.param(q.returnEvent)}
            AND "timestamp" >= ${w.param(q.range.from)} AND "timestamp" < ${w.param(returnEnd)} AND coalesce(user_id, anonymous_id) IS NOT NULL
       ),
       returned AS (
         SELECT c.c, (r.p::date - c.c::date) / ${days} AS period, count(*) AS n
           FROM cohort c JOIN ret r USING (u)
          WHERE r.p > c.c AND (r.p::date - c.c::date) / ${days} BETWEEN 1 AND ${w.param(q.periods)}
          GROUP BY 1, 2
       ),
       sizes AS (SELECT c, count(*) AS users FROM cohort GROUP BY c),
       ${this.series(w, q, iv, tz)}
       SELECT s.b AT TIME ZONE ${tz} AS start, coalesce(z.users, 0)::text AS users, r.period, r.n::text AS returned
         FROM series s LEFT JOIN sizes z ON z.c = s.b LEFT JOIN returned r ON r.c = s.b
        ORDER BY s.b, r.period`,
      w.params,
    );
  }

  /** `series AS (...)`: the local start of every bucket of the range, in order. */
  private series(w: Where, q: { range: Range }, iv: string, tz: string): string {
    return `series AS (
         SELECT generate_series(date_trunc(${iv}, ${w.param(q.range.from)}::timestamptz AT TIME ZONE ${tz}),
                                (${w.param(q.range.to)}::timestamptz - interval '1 microsecond') AT TIME ZONE ${tz},
                                ('1 ' || ${iv})::interval) AS b
       )`;
  }

  /** Counts per bucket (and group), every bucket of the range present, empty ones as 0. */
  counts(q: CountsQuery): Promise<CountRow[]> {
    const w = new Where();
    const keyOf = (t: 'raw' | 'rollup') => (q.groupBy === 'type' ? 'type' : q.groupBy === 'event' ? (t === 'raw' ? `coalesce(event, '')` : 'event') : 'NULL::text');
    const src = this.countedSource(q, w, keyOf);
    const iv = w.param(q.interval);
    const tz = w.param(q.tz);
    // One row per bucket, its groups folded into one jsonb object: 720 rows for 30 days of hours,
    // not one per (hour, event).
    return this.db.read<CountRow>(
      `WITH counted AS (${src}),
       agg AS (
         SELECT date_trunc(${iv}, ts AT TIME ZONE ${tz}) AS b, key, sum(n) AS n FROM counted GROUP BY 1, 2
       ),
       per_bucket AS (
         SELECT b, sum(n) AS n, jsonb_object_agg(key, n) FILTER (WHERE key IS NOT NULL) AS groups FROM agg GROUP BY b
       ),
       ${this.series(w, q, iv, tz)}
       SELECT s.b AT TIME ZONE ${tz} AS start, coalesce(p.n, 0)::text AS n, p.groups
         FROM series s LEFT JOIN per_bucket p ON p.b = s.b
        ORDER BY s.b`,
      w.params,
    );
  }

  /** The most frequent track event names in the range, with counts and distinct users (userId, else anonymousId). */
  topEvents(q: { sourceId: string; range: Range; limit: number } & EventFilters): Promise<{ event: string; n: string; users: string }[]> {
    const w = new Where();
    const src = this.countedSource({ ...q, type: 'track', interval: 'hour', tz: 'UTC' }, w, (t) => (t === 'raw' ? `coalesce(event, '')` : 'event'));
    const limit = w.param(q.limit);
    const source = w.param(q.sourceId);
    const from = w.param(q.range.from);
    const to = w.param(q.range.to);
    const users = new Where(w.params).filters({ ...q, type: undefined });
    return this.db.read(
      `WITH counted AS (${src}),
       top AS (SELECT key AS event, sum(n) AS n FROM counted GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ${limit})
       SELECT t.event, t.n::text AS n, coalesce(u.users, 0)::text AS users FROM top t
         LEFT JOIN (
           SELECT event, count(DISTINCT coalesce(user_id, anonymous_id)) AS users FROM events
            WHERE source_id = ${source} AND event = ANY(ARRAY(SELECT event FROM top)) AND "timestamp" >= ${from} AND "timestamp" < ${to}
              AND ${users.sql}
            GROUP BY 1
         ) u USING (event)
        ORDER BY t.n DESC, t.event`,
      w.params,
    );
  }
}
