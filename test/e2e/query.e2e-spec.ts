import { CLI_ACTOR } from '../../src/audit/actor';
import { RollupsRepository } from '../../src/query/rollups.repository';
import { KeysService } from '../../src/sources/keys.service';
import { createSource, startApp, TestApp, withDb } from '../support/app';
import { waitForDrain } from '../support/drain';

// The query API against a known data set: the expected numbers are computed here, in plain
// JavaScript from the events the test sent (Intl for time zones), never by the code under test.
const HOUR = 3_600_000;
const NAMES = ['Signed Up', 'Order Completed', 'Product Viewed'];
const PLANS = ['free', 'pro', 'team'];
// Europe/Berlin leaves summer time on 2026-10-25 at 01:00 UTC: that local day has 25 hours.
const START = Date.parse('2026-10-23T18:10:00.000Z');
const END = Date.parse('2026-10-27T05:50:00.000Z');

interface Sent {
  messageId: string;
  type: string;
  event?: string;
  userId?: string;
  anonymousId?: string;
  timestamp: string;
  properties?: Record<string, unknown>;
  context?: Record<string, unknown>;
}

/** A deterministic, uneven data set: some hours empty, heavy and light users, two libraries. */
function dataSet(): Sent[] {
  const out: Sent[] = [];
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let t = START, i = 0; t < END; t += Math.floor(rand() * 17 * 60_000) + 30_000, i++) {
    if (new Date(t).getUTCHours() === 3) continue; // an empty hour every day
    const user = rand() < 0.5 ? 'u-heavy' : `u-${Math.floor(rand() * 12)}`;
    const anonymous = rand() < 0.2;
    const isTrack = rand() < 0.8;
    out.push({
      messageId: `q-${i}`,
      type: isTrack ? 'track' : 'page',
      ...(isTrack ? { event: NAMES[Math.floor(rand() * NAMES.length)] } : {}),
      ...(anonymous ? { anonymousId: `anon-${Math.floor(rand() * 5)}` } : { userId: user }),
      timestamp: new Date(t).toISOString(),
      properties: { plan: PLANS[i % 3], n: i % 4 },
      context: { library: { name: i % 5 === 0 ? 'analytics-node' : 'analytics.js', version: '1.0.0' } },
    });
  }
  return out;
}

const localDay = (iso: string, tz: string) => new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
const localTime = (iso: string, tz: string) => new Intl.DateTimeFormat('en-GB', { timeZone: tz, hourCycle: 'h23', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
const userOf = (e: Sent) => e.userId ?? e.anonymousId!;

function tally<K>(items: Sent[], key: (e: Sent) => K): Map<K, number> {
  const m = new Map<K, number>();
  for (const e of items) m.set(key(e), (m.get(key(e)) ?? 0) + 1);
  return m;
}

describe('query API on a known data set', () => {
  let t: TestApp;
  let source: { id: string; writeKey: string };
  let readKey: string;
  let otherReadKey: string;
  const events = dataSet();
  const inRange = (from: string, to: string, f: (e: Sent) => boolean = () => true) => events.filter((e) => e.timestamp >= from && e.timestamp < to && f(e));
  const get = (path: string, key = readKey) => t.http.get(`/v1/sources/${source.id}${path}`).set('Authorization', `Bearer ${key}`);

  beforeAll(async () => {
    // The cache has its own tests; here every answer must be computed afresh.
    t = await startApp({ API_RATE_LIMIT_RPS: '0', QUERY_CACHE_TTL_MS: '0' });
    source = await createSource(t);
    const other = await createSource(t);
    const keys = t.app.get(KeysService);
    readKey = (await keys.createKey({ kind: 'read', sourceIds: [source.id] }, CLI_ACTOR)).key;
    otherReadKey = (await keys.createKey({ kind: 'read', sourceIds: [other.id] }, CLI_ACTOR)).key;
    const auth = `Basic ${Buffer.from(`${source.writeKey}:`).toString('base64')}`;
    for (let i = 0; i < events.length; i += 200) {
      const res = await t.http.post('/v1/batch').set('Authorization', auth).send({ batch: events.slice(i, i + 200) });
      expect(res.status).toBe(200);
    }
    // Every event again: duplicates must never count.
    const again = await t.http.post('/v1/batch').set('Authorization', auth).send({ batch: events.slice(0, 300) });
    expect(again.status).toBe(200);
    await waitForDrain(t.config.redis.prefix);
  });
  afterAll(() => t.close());

  it('stores the data set once (the premise of every count below)', async () => {
    const n = await withDb(async (db) => Number((await db.query('SELECT count(*) AS n FROM events WHERE source_id = $1', [source.id])).rows[0].n));
    expect(n).toBe(events.length);
    expect(events.length).toBeGreaterThan(500);
  });

  describe('GET events with filters', () => {
    async function all(query: string): Promise<string[]> {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await get(`/events?limit=97&${query}${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        ids.push(...res.body.items.map((e: { messageId: string }) => e.messageId));
        cursor = res.body.nextCursor;
      } while (cursor);
      return ids;
    }
    const newestFirst = (list: Sent[]) => [...list].sort((a, b) => (a.timestamp === b.timestamp ? (a.messageId < b.messageId ? 1 : -1) : a.timestamp < b.timestamp ? 1 : -1)).map((e) => e.messageId);

    it.each([
      ['type=page', (e: Sent) => e.type === 'page'],
      ['event=Order%20Completed', (e: Sent) => e.event === 'Order Completed'],
      ['userId=u-heavy', (e: Sent) => e.userId === 'u-heavy'],
      ['anonymousId=anon-2', (e: Sent) => e.anonymousId === 'anon-2'],
      ['properties.plan=pro', (e: Sent) => e.properties?.plan === 'pro'],
      ['properties.n=3&type=track', (e: Sent) => e.properties?.n === 3 && e.type === 'track'],
      ['context.library.name=analytics-node&properties.plan=team', (e: Sent) => e.context?.library && (e.context.library as { name: string }).name === 'analytics-node' && e.properties?.plan === 'team'],
      ['userId=u-heavy&from=2026-10-25T00:00:00Z&to=2026-10-26T00:00:00Z', (e: Sent) => e.userId === 'u-heavy' && e.timestamp >= '2026-10-25T00:00:00Z' && e.timestamp < '2026-10-26T00:00:00Z'],
    ])('%s: every match, newest first, across pages', async (query, match) => {
      const expected = newestFirst(events.filter(match));
      expect(expected.length).toBeGreaterThan(0);
      expect(await all(query)).toEqual(expected);
    });

    it('refuses a malformed field filter with a 400 naming it', async () => {
      const res = await get('/events?properties.a%20b=1');
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ reason: 'invalid_filter', field: 'properties.a b' });
      expect((await get('/events?properties.plan=%00')).status).toBe(400);
      expect((await get('/events?unknown=1')).status).toBe(400);
    });
  });

  describe('GET events/:messageId (the receipt)', () => {
    it('returns a stored event', async () => {
      const e = events[42];
      const res = await get(`/events/${e.messageId}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ messageId: e.messageId, status: 'stored', event: { messageId: e.messageId, type: e.type, timestamp: e.timestamp } });
    });

    it('says when an event was dead-lettered, with the reason and the dead letter id', async () => {
      const id = await withDb(async (db) => (await db.query(
        `INSERT INTO dead_letters (source_id, message_id, reason, reason_code, payload_text) VALUES ($1, 'dl-1', 'PostgreSQL refused the event: test', 'rejected_by_postgres', '{}') RETURNING id::text AS id`,
        [source.id],
      )).rows[0].id);
      const res = await get('/events/dl-1');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ messageId: 'dl-1', status: 'dead_lettered', deadLetter: { id, reasonCode: 'rejected_by_postgres', reason: 'PostgreSQL refused the event: test' } });
    });

    it('404 says what it means: unknown or not yet written, or no longer held', async () => {
      const unknown = await get('/events/never-sent');
      expect(unknown.status).toBe(404);
      expect(unknown.body.reason).toBe('unknown_or_not_yet_written');
      expect(unknown.body.message).toMatch(/not written yet/);
      const gone = events[7];
      await withDb((db) => db.query('DELETE FROM events WHERE source_id = $1 AND message_id = $2', [source.id, gone.messageId]));
      const res = await get(`/events/${gone.messageId}`);
      expect(res.status).toBe(404);
      expect(res.body.reason).toBe('no_longer_held');
      events.splice(7, 1); // the counts below must not count it either
      await t.app.get(RollupsRepository).rebuild(new Date(gone.timestamp), new Date(Date.parse(gone.timestamp) + 1));
    });

    it('is scoped like every read route', async () => {
      expect((await get(`/events/${events[1].messageId}`, otherReadKey)).status).toBe(403);
    });
  });

  describe('GET stats/counts', () => {
    it('hourly, with ragged edges: rollup for whole hours, raw rows at the edges, every hour present', async () => {
      const from = '2026-10-23T20:25:00.000Z';
      const to = '2026-10-26T09:40:00.000Z';
      const res = await get(`/stats/counts?from=${from}&to=${to}&interval=hour`);
      expect(res.status).toBe(200);
      expect(res.body.read).toBe('rollup');
      const expected = tally(inRange(from, to), (e) => new Date(Math.floor(Date.parse(e.timestamp) / HOUR) * HOUR).toISOString());
      const hours = Math.ceil((Date.parse(to) - Math.floor(Date.parse(from) / HOUR) * HOUR) / HOUR);
      expect(res.body.buckets).toHaveLength(hours);
      for (const b of res.body.buckets) expect([b.start, b.count]).toEqual([b.start, expected.get(b.start) ?? 0]);
      expect(res.body.buckets.some((b: { count: number }) => b.count === 0)).toBe(true);
    });

    it('daily in Europe/Berlin across the end of summer time, grouped by event', async () => {
      const from = '2026-10-23T22:00:00.000Z'; // local midnight, 24 Oct (CEST, +2)
      const to = '2026-10-26T23:00:00.000Z'; // local midnight, 27 Oct (CET, +1)
      const res = await get(`/stats/counts?from=${from}&to=${to}&interval=day&tz=Europe/Berlin&groupBy=event`);
      expect(res.status).toBe(200);
      const tz = 'Europe/Berlin';
      expect(res.body.buckets.map((b: { start: string }) => localDay(b.start, tz))).toEqual(['2026-10-24', '2026-10-25', '2026-10-26']);
      expect(res.body.buckets.map((b: { start: string }) => localTime(b.start, tz))).toEqual(['00:00', '00:00', '00:00']);
      // The 25th is 25 hours long: its start and the next one's are 25 h apart.
      expect(Date.parse(res.body.buckets[2].start) - Date.parse(res.body.buckets[1].start)).toBe(25 * HOUR);
      const range = inRange(from, to);
      for (const b of res.body.buckets) {
        const day = range.filter((e) => localDay(e.timestamp, tz) === localDay(b.start, tz));
        expect(b.count).toBe(day.length);
        expect(b.groups).toEqual(Object.fromEntries([...tally(day, (e) => e.event ?? '')]));
      }
    });

    it('counts the same with filters the rollup does not hold (raw rows) as computed here', async () => {
      const from = '2026-10-24T00:00:00.000Z';
      const to = '2026-10-26T00:00:00.000Z';
      const res = await get(`/stats/counts?from=${from}&to=${to}&interval=day&userId=u-heavy&properties.plan=pro`);
      expect(res.status).toBe(200);
      expect(res.body.read).toBe('raw');
      const match = inRange(from, to, (e) => e.userId === 'u-heavy' && e.properties?.plan === 'pro');
      expect(res.body.buckets.map((b: { count: number }) => b.count)).toEqual(['2026-10-24', '2026-10-25'].map((d) => match.filter((e) => e.timestamp.startsWith(d)).length));
    });

    it('minute buckets, and a zone with a half-hour offset, read raw rows and agree', async () => {
      const from = '2026-10-25T00:00:00.000Z';
      const to = '2026-10-25T02:00:00.000Z';
      const minutes = await get(`/stats/counts?from=${from}&to=${to}&interval=minute&type=track`);
      expect(minutes.status).toBe(200);
      expect(minutes.body.read).toBe('raw');
      expect(minutes.body.buckets).toHaveLength(120);
      const expected = tally(inRange(from, to, (e) => e.type === 'track'), (e) => e.timestamp.slice(0, 16));
      for (const b of minutes.body.buckets) expect(b.count).toBe(expected.get(b.start.slice(0, 16)) ?? 0);
      const kolkata = await get(`/stats/counts?from=2026-10-23T18:30:00Z&to=2026-10-26T18:30:00Z&interval=day&tz=Asia/Kolkata`);
      expect(kolkata.body.read).toBe('raw');
      expect(kolkata.body.buckets.map((b: { count: number }) => b.count)).toEqual(
        ['2026-10-24', '2026-10-25', '2026-10-26'].map((d) => inRange('2026-10-23T18:30:00Z', '2026-10-26T18:30:00Z').filter((e) => localDay(e.timestamp, 'Asia/Kolkata') === d).length),
      );
    });

    it('a rebuilt rollup gives the same answer', async () => {
      const q = '/stats/counts?from=2026-10-23T00:00:00Z&to=2026-10-28T00:00:00Z&interval=day&groupBy=type';
      const before = (await get(q)).body;
      await withDb((db) => db.query('DELETE FROM event_counts_hourly WHERE source_id = $1', [source.id]));
      expect((await get(q)).body.buckets.every((b: { count: number }) => b.count === 0)).toBe(true);
      const result = await t.app.get(RollupsRepository).rebuild(new Date('2026-10-23T00:00:00Z'), new Date('2026-10-28T00:00:00Z'), source.id);
      expect(result.hours).toBe(5 * 24);
      expect((await get(q)).body).toEqual(before);
      expect(before.buckets.map((b: { count: number }) => b.count).reduce((a: number, b: number) => a + b, 0)).toBe(events.length);
    });

    it.each([
      ['tz=Mars/Olympus', 'tz', 'invalid_tz'],
      ['from=2026-10-25T00:00:00Z&to=2026-10-24T00:00:00Z', 'from', 'invalid_range'],
      ['from=2016-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&interval=minute', 'interval', 'range_too_wide'],
      ['interval=fortnight', undefined, undefined],
      ['to=2026-10-24T00:00:00Z', undefined, undefined],
      ['groupBy=user', undefined, undefined],
    ])('%s: 400 naming the parameter', async (query, field, reason) => {
      const base = query.includes('from=') ? '' : 'from=2026-10-24T00:00:00Z&';
      const withTo = query.includes('to=') ? '' : '&to=2026-10-25T00:00:00Z';
      const res = await get(`/stats/counts?${base}${query}${withTo}`);
      expect(res.status).toBe(400);
      expect(typeof res.body.message === 'string' ? res.body.message : JSON.stringify(res.body.message)).toBeTruthy();
      if (field) expect(res.body).toMatchObject({ field, reason });
    });
  });

  describe('GET stats/top-events', () => {
    it('names, counts and distinct users, most frequent first', async () => {
      const from = '2026-10-24T06:30:00.000Z';
      const to = '2026-10-26T12:00:00.000Z';
      const res = await get(`/stats/top-events?from=${from}&to=${to}&limit=2`);
      expect(res.status).toBe(200);
      const tracks = inRange(from, to, (e) => e.type === 'track');
      const expected = [...tally(tracks, (e) => e.event!)]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, 2)
        .map(([event, count]) => ({ event, count, users: new Set(tracks.filter((e) => e.event === event).map(userOf)).size }));
      expect(res.body.events).toEqual(expected);
    });
  });

  describe('GET stats/uniques', () => {
    it.each([
      ['day', 'UTC', '2026-10-23T12:00:00.000Z', '2026-10-27T06:00:00.000Z', 'rollup'],
      ['day', 'Europe/Berlin', '2026-10-23T22:00:00.000Z', '2026-10-26T23:00:00.000Z', 'raw'],
      ['hour', 'UTC', '2026-10-25T00:00:00.000Z', '2026-10-25T12:00:00.000Z', 'raw'],
      ['week', 'UTC', '2026-10-19T00:00:00.000Z', '2026-11-02T00:00:00.000Z', 'rollup'],
    ])('%s buckets in %s: distinct users (userId, else anonymousId) per bucket', async (interval, tz, from, to, read) => {
      const res = await get(`/stats/uniques?from=${from}&to=${to}&interval=${interval}&tz=${tz}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ interval, tz, approximate: false, read });
      const bucketOf = (iso: string) => {
        if (interval === 'hour') return iso.slice(0, 13);
        const day = localDay(iso, tz);
        if (interval === 'day') return day;
        const d = new Date(`${day}T00:00:00Z`);
        d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7)); // Monday
        return d.toISOString().slice(0, 10);
      };
      const expected = new Map<string, Set<string>>();
      for (const e of inRange(from, to)) {
        const set = expected.get(bucketOf(e.timestamp)) ?? new Set<string>();
        set.add(userOf(e));
        expected.set(bucketOf(e.timestamp), set);
      }
      expect(res.body.buckets.length).toBeGreaterThan(1);
      for (const b of res.body.buckets) expect([b.start, b.users]).toEqual([b.start, expected.get(bucketOf(b.start))?.size ?? 0]);
      expect(res.body.buckets.reduce((n: number, b: { users: number }) => n + b.users, 0)).toBe([...expected.values()].reduce((n, u) => n + u.size, 0));
    });
  });

  describe('POST stats/funnel', () => {
    /** The funnel computed here: each user's first step 1 in range, then each step after the previous, within the window of the start. */
    function funnel(steps: string[], windowMs: number, from: string, to: string) {
      const byUser = new Map<string, Sent[]>();
      for (const e of events) if (e.type === 'track') byUser.set(userOf(e), [...(byUser.get(userOf(e)) ?? []), e]);
      const reached = steps.map(() => 0);
      const gaps: number[][] = steps.map(() => []);
      for (const list of byUser.values()) {
        const at = (name: string, after: number, until: number) =>
          Math.min(...list.filter((e) => e.event === name && Date.parse(e.timestamp) > after && Date.parse(e.timestamp) <= until).map((e) => Date.parse(e.timestamp)));
        const firsts = list.filter((e) => e.event === steps[0] && e.timestamp >= from && e.timestamp < to).map((e) => Date.parse(e.timestamp));
        if (firsts.length === 0) continue;
        const start = Math.min(...firsts);
        reached[0]++;
        let prev = start;
        for (let k = 1; k < steps.length; k++) {
          const t = at(steps[k], prev, start + windowMs);
          if (!Number.isFinite(t)) break;
          reached[k]++;
          gaps[k].push((t - prev) / 1000);
          prev = t;
        }
      }
      const median = (xs: number[]) => {
        if (xs.length === 0) return null;
        const s = [...xs].sort((a, b) => a - b);
        const mid = (s.length - 1) / 2;
        return Math.round(((s[Math.floor(mid)] + s[Math.ceil(mid)]) / 2) * 1000) / 1000;
      };
      return steps.map((event, k) => ({ event, users: reached[k], median: k === 0 ? null : median(gaps[k]) }));
    }

    it('3 steps within 6 hours: users per step, conversion and median time between steps', async () => {
      const steps = ['Product Viewed', 'Order Completed', 'Signed Up'];
      const from = '2026-10-23T00:00:00.000Z';
      const to = '2026-10-26T00:00:00.000Z';
      const res = await t.http.post(`/v1/sources/${source.id}/stats/funnel`).set('Authorization', `Bearer ${readKey}`).send({ steps: steps.map((event) => ({ event })), window: '6h', from, to });
      expect(res.status).toBe(200);
      const expected = funnel(steps, 6 * HOUR, from, to);
      expect(expected[2].users).toBeGreaterThan(0);
      expect(res.body.steps.map((s: { event: string; users: number; medianSecondsFromPrevious: number | null }) => ({ event: s.event, users: s.users, median: s.medianSecondsFromPrevious }))).toEqual(expected);
      expect(res.body.steps[1].conversion).toBeCloseTo(expected[1].users / expected[0].users, 3);
      expect(res.body.steps[2].fromPrevious).toBeCloseTo(expected[2].users / expected[1].users, 3);
    });

    it('a step with a property filter counts only matching events', async () => {
      const res = await t.http
        .post(`/v1/sources/${source.id}/stats/funnel`)
        .set('Authorization', `Bearer ${readKey}`)
        .send({ steps: [{ event: 'Product Viewed' }, { event: 'Order Completed', properties: { plan: 'nonexistent' } }], window: '1d', from: '2026-10-23T00:00:00Z', to: '2026-10-28T00:00:00Z' });
      expect(res.status).toBe(200);
      expect(res.body.steps[1]).toMatchObject({ users: 0, conversion: 0, medianSecondsFromPrevious: null });
    });

    it.each([
      [{ steps: [{ event: 'a' }], window: '1d' }, 'steps'],
      [{ steps: [{ event: 'a' }, { event: 'b' }], window: '100d' }, 'window'],
      [{ steps: [{ event: 'a' }, { event: 'b' }], window: 'forever' }, 'window'],
      [{ steps: [{ event: 'a' }, { event: 'b', properties: { x: { y: 1 } } }], window: '1d' }, 'steps[1].properties'],
    ])('refuses %j with a 400', async (body, field) => {
      const res = await t.http.post(`/v1/sources/${source.id}/stats/funnel`).set('Authorization', `Bearer ${readKey}`).send({ from: '2026-10-23T00:00:00Z', to: '2026-10-24T00:00:00Z', ...body });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toContain(field.replace(/\[.*$/, ''));
    });
  });

  describe('POST stats/retention', () => {
    it('daily cohorts in Europe/Berlin: cohort sizes and returns per later day, computed here', async () => {
      const tz = 'Europe/Berlin';
      const from = '2026-10-23T22:00:00.000Z';
      const to = '2026-10-25T23:00:00.000Z';
      const periods = 3;
      const res = await t.http
        .post(`/v1/sources/${source.id}/stats/retention`)
        .set('Authorization', `Bearer ${readKey}`)
        .send({ cohortEvent: 'Signed Up', returnEvent: 'Order Completed', interval: 'day', periods, from, to, tz });
      expect(res.status).toBe(200);
      const firsts = new Map<string, string>();
      for (const e of [...events].sort((a, b) => (a.timestamp < b.timestamp ? -1 : 1))) {
        if (e.event === 'Signed Up' && e.timestamp >= from && e.timestamp < to && !firsts.has(userOf(e))) firsts.set(userOf(e), localDay(e.timestamp, tz));
      }
      const dayNumber = (day: string) => Date.parse(`${day}T00:00:00Z`) / 86_400_000;
      const expected = ['2026-10-24', '2026-10-25'].map((cohort) => {
        const members = [...firsts].filter(([, d]) => d === cohort).map(([u]) => u);
        const returned = Array.from({ length: periods }, (_, k) =>
          members.filter((u) => events.some((e) => userOf(e) === u && e.event === 'Order Completed' && e.timestamp >= from && dayNumber(localDay(e.timestamp, tz)) - dayNumber(cohort) === k + 1)).length,
        );
        return { day: cohort, users: members.length, returned };
      });
      expect(expected[0].users).toBeGreaterThan(0);
      expect(res.body.cohorts.map((c: { start: string; users: number; returned: number[] }) => ({ day: localDay(c.start, tz), users: c.users, returned: c.returned }))).toEqual(expected);
      expect(res.body.cohorts[0].rates[0]).toBeCloseTo(expected[0].returned[0] / expected[0].users, 3);
    });
  });
});
