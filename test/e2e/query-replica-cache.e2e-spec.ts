import { Client } from 'pg';
import { CLI_ACTOR } from '../../src/audit/actor';
import { loadConfig } from '../../src/config';
import { ensureDatabase, runMigrations } from '../../src/database/migrator';
import { KeysService } from '../../src/sources/keys.service';
import { createSource, startApp, TestApp, withDb } from '../support/app';
import { waitForDrain } from '../support/drain';
import { testDatabaseUrl, uniqueName } from '../support/env';

const at = (iso: string, i: number) => ({ type: 'track', event: 'Cached', userId: `u${i % 3}`, messageId: `c-${iso}-${i}`, timestamp: iso });

async function send(t: TestApp, writeKey: string, events: object[]): Promise<void> {
  const res = await t.http.post('/v1/batch').set('Authorization', `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`).send({ batch: events });
  expect(res.status).toBe(200);
  await waitForDrain(t.config.redis.prefix);
}

describe('aggregate cache (Redis)', () => {
  let t: TestApp;
  let source: { id: string; writeKey: string };
  let key: string;
  beforeAll(async () => {
    t = await startApp({ QUERY_CACHE_TTL_MS: '60000', API_RATE_LIMIT_RPS: '0' });
    source = await createSource(t);
    key = (await t.app.get(KeysService).createKey({ kind: 'read', sourceIds: [source.id] }, CLI_ACTOR)).key;
  });
  afterAll(() => t.close());
  const counts = (query = '') => t.http.get(`/v1/sources/${source.id}/stats/counts?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&interval=day${query}`).set('Authorization', `Bearer ${key}`);

  it('answers the same question from Redis until the TTL, and says so', async () => {
    await send(t, source.writeKey, [0, 1, 2].map((i) => at('2026-11-01T10:00:00.000Z', i)));
    const first = await counts();
    expect(first.headers['x-sluice-cache']).toBe('miss');
    expect(first.body.buckets[0].count).toBe(3);
    await send(t, source.writeKey, [3, 4].map((i) => at('2026-11-01T11:00:00.000Z', i)));
    const second = await counts();
    // Stale by design, for at most QUERY_CACHE_TTL_MS: the two new events are not in it.
    expect(second.headers['x-sluice-cache']).toBe('hit');
    expect(second.body).toEqual(first.body);
    // Another question (a field filter too) is another key.
    const filtered = await counts('&properties.x=1');
    expect(filtered.headers['x-sluice-cache']).toBe('miss');
    const fresh = await counts('&groupBy=event');
    expect(fresh.headers['x-sluice-cache']).toBe('miss');
    expect(fresh.body.buckets[0].count).toBe(5);
    const metrics = (await t.http.get('/metrics')).text;
    expect(metrics).toMatch(/sluice_query_cache_total\{endpoint="counts",result="hit"\} 1/);
    expect(metrics).toMatch(/sluice_query_duration_seconds_count\{endpoint="counts",cache="miss"\} 3/);
  });

  it('never caches the event list or receipts', async () => {
    const list = await t.http.get(`/v1/sources/${source.id}/events`).set('Authorization', `Bearer ${key}`);
    expect(list.headers['x-sluice-cache']).toBe('off');
    expect(list.body.items).toHaveLength(5);
  });

  it('gives a cached answer only to a key that may ask', async () => {
    const other = await createSource(t);
    const otherKey = (await t.app.get(KeysService).createKey({ kind: 'read', sourceIds: [other.id] }, CLI_ACTOR)).key;
    const res = await t.http.get(`/v1/sources/${source.id}/stats/counts?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&interval=day`).set('Authorization', `Bearer ${otherKey}`);
    expect(res.status).toBe(403);
  });
});

describe('read replica (DATABASE_READ_URL)', () => {
  const replicaUrl = (() => {
    const url = new URL(testDatabaseUrl());
    url.pathname = `/${uniqueName('sluice_replica')}`;
    return url.toString();
  })();
  let t: TestApp;
  let source: { id: string; writeKey: string };

  beforeAll(async () => {
    // A second database stands in for the replica: same schema, its own rows.
    const config = loadConfig({ DATABASE_URL: replicaUrl });
    await ensureDatabase(config);
    await runMigrations(config);
    t = await startApp({ DATABASE_READ_URL: replicaUrl, QUERY_CACHE_TTL_MS: '0', API_RATE_LIMIT_RPS: '0' });
    source = await createSource(t);
  });
  afterAll(async () => {
    await t.close();
    const admin = new Client({ connectionString: testDatabaseUrl() });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${new URL(replicaUrl).pathname.slice(1)}" WITH (FORCE)`);
    await admin.end();
  });

  it('reads the query API from the replica and writes to the primary', async () => {
    await send(t, source.writeKey, [0, 1].map((i) => at('2026-11-01T10:00:00.000Z', i)));
    const primary = await withDb(async (db) => Number((await db.query('SELECT count(*) AS n FROM events WHERE source_id = $1', [source.id])).rows[0].n));
    expect(primary).toBe(2);
    const get = (path: string) => t.http.get(`/v1/sources/${source.id}${path}`).set('Authorization', `Bearer ${t.adminKey}`);
    expect((await get('/events')).body.items).toEqual([]); // the replica has none of them
    const replica = new Client({ connectionString: replicaUrl });
    await replica.connect();
    try {
      await replica.query(`INSERT INTO events (source_id, message_id, type, event, "timestamp", received_at) VALUES ($1, 'only-on-replica', 'track', 'R', '2026-11-01T12:00:00Z', now())`, [source.id]);
      await replica.query(`INSERT INTO event_counts_hourly (source_id, hour, type, event, n) VALUES ($1, '2026-11-01T12:00:00Z', 'track', 'R', 7)`, [source.id]);
    } finally {
      await replica.end();
    }
    expect((await get('/events')).body.items.map((e: { messageId: string }) => e.messageId)).toEqual(['only-on-replica']);
    const counts = await get('/stats/counts?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&interval=day');
    expect(counts.body.buckets).toEqual([{ start: '2026-11-01T00:00:00.000Z', count: 7 }]);
  });
});
