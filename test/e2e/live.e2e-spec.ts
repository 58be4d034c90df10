import Redis from 'ioredis';
import { CLI_ACTOR } from '../../src/audit/actor';
import { KeysService } from '../../src/sources/keys.service';
import { createSource, startApp, TestApp, waitFor } from '../support/app';
import { REDIS_URL } from '../support/env';
import { baseUrl, openSse, SseStream } from '../support/sse';

/** The live debugger against real Redis: streams, filters, access, sampling, two apis, clean-up. */
describe('live debugger (GET /v1/sources/:sourceId/live)', () => {
  let t: TestApp;
  let url: string;
  let source: { id: string; writeKey: string };
  let readThis: string;
  let readOther: string;
  const open: SseStream[] = [];

  const basic = (writeKey: string) => `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
  const live = async (path: string, key?: string, base = url) => {
    const s = await openSse(`${base}${path}`, key ? { Authorization: `Bearer ${key}` } : {});
    open.push(s);
    return s;
  };
  const post = (route: string, body: object, writeKey = source.writeKey, base = t) => base.http.post(route).set('Authorization', basic(writeKey)).send(body);
  const metric = async (name: string, base = url) => {
    const text = await (await fetch(`${base}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.slice(name.length + 1)) : 0;
  };
  const data = (m: { data: string }) => JSON.parse(m.data);

  beforeAll(async () => {
    t = await startApp({ API_RATE_LIMIT_RPS: '0' });
    url = await baseUrl(t.app);
    source = await createSource(t);
    const other = await createSource(t);
    const keys = t.app.get(KeysService);
    readThis = (await keys.createKey({ kind: 'read', sourceIds: [source.id] }, CLI_ACTOR)).key;
    readOther = (await keys.createKey({ kind: 'read', sourceIds: [other.id] }, CLI_ACTOR)).key;
  });
  afterEach(() => {
    open.splice(0).forEach((s) => s.close());
  });
  afterAll(() => t.close());

  it('says hello, then shows an accepted event within a second of its 200 (normalised, without the write key)', async () => {
    const s = await live(`/v1/sources/${source.id}/live`, readThis);
    expect(s.status).toBe(200);
    expect(s.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(s.headers.get('cache-control')).toBe('no-cache');
    expect(s.headers.get('x-accel-buffering')).toBe('no');
    const hello = await s.next();
    expect(hello.event).toBe('hello');
    expect(data(hello)).toEqual({ sourceId: source.id, maxEventsPerSecond: 50 });

    const res = await post('/v1/track', { userId: 'u1', event: 'Order Completed', properties: { total: 12.5 }, writeKey: source.writeKey });
    expect(res.status).toBe(200);
    const m = await s.next(1000);
    expect(m.event).toBe('event');
    const d = data(m);
    expect(m.id).toBe(d.messageId);
    expect(d).toMatchObject({ type: 'track', name: 'Order Completed', payload: { type: 'track', userId: 'u1', event: 'Order Completed', properties: { total: 12.5 }, messageId: d.messageId } });
    expect(new Date(d.receivedAt).toISOString()).toBe(d.receivedAt);
    expect(JSON.stringify(s.messages)).not.toContain(source.writeKey);
    expect(d.payload).not.toHaveProperty('writeKey');
  });

  it('filters by type (comma-separated) and by exact event name (repeatable)', async () => {
    const types = await live(`/v1/sources/${source.id}/live?type=identify,page`, t.adminKey);
    const names = await live(`/v1/sources/${source.id}/live?event=Signed%20Up&event=Logged%20In`, readThis);
    await types.next();
    await names.next();
    const res = await post('/v1/batch', {
      batch: [
        { type: 'track', userId: 'u', event: 'Signed Up', messageId: 'f-1' },
        { type: 'track', userId: 'u', event: 'Other', messageId: 'f-2' },
        { type: 'identify', userId: 'u', traits: { plan: 'pro' }, messageId: 'f-3' },
        { type: 'page', userId: 'u', name: 'Home', messageId: 'f-4' },
        { type: 'track', userId: 'u', event: 'Logged In', messageId: 'f-5' },
      ],
      context: { library: { name: 'live-test' } },
    });
    expect(res.status).toBe(200);
    const seen = async (s: SseStream, n: number) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) ids.push((await s.next(2000)).id!);
      return ids;
    };
    expect(await seen(types, 2)).toEqual(['f-3', 'f-4']);
    expect(await seen(names, 2)).toEqual(['f-1', 'f-5']);
    // The batch context is merged into each event, as it is stored.
    expect(data(types.messages[1]).payload.context).toEqual({ library: { name: 'live-test' } });
    expect(data(types.messages[2]).name).toBe('Home');
    // Nothing else arrives.
    expect(await types.collect('event', 300)).toEqual([]);
  });

  it('answers 401 without a key, 403 to a write key or a read key of another source, with the JSON error shape', async () => {
    const none = await live(`/v1/sources/${source.id}/live`);
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ statusCode: 401, message: expect.any(String) });
    const other = await live(`/v1/sources/${source.id}/live`, readOther);
    expect(other.status).toBe(403);
    expect(other.body.message).toEqual(expect.any(String));
    const write = await live(`/v1/sources/${source.id}/live`, source.writeKey);
    expect(write.status).toBe(403);
    // A key in the URL is not a credential.
    expect((await live(`/v1/sources/${source.id}/live?key=${readThis}`)).status).toBe(401);
  });

  it('answers 400 to an unknown type, an empty event or an unknown parameter', async () => {
    const bad = await live(`/v1/sources/${source.id}/live?type=track,click`, readThis);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ statusCode: 400, reason: 'invalid_type', field: 'type', message: expect.stringContaining('click') });
    expect((await live(`/v1/sources/${source.id}/live?event=`, readThis)).status).toBe(400);
    expect((await live(`/v1/sources/${source.id}/live?since=now`, readThis)).status).toBe(400);
    expect((await live(`/v1/sources/not-a-uuid/live`, t.adminKey)).status).toBe(400);
  });

  it('samples to LIVE_MAX_EVENTS_PER_SECOND and reports the rest as skipped', async () => {
    const s = await live(`/v1/sources/${source.id}/live`, readThis);
    await s.next();
    const batch = Array.from({ length: 200 }, (_, i) => ({ type: 'track', userId: 'u', event: 'Flood', messageId: `flood-${i}` }));
    expect((await post('/v1/batch', { batch })).status).toBe(200);
    let events = 0;
    let skipped = 0;
    await waitFor(
      async () => {
        while (s.messages.length > 1 + events + (skipped > 0 ? 1 : 0) && events + skipped < 200) {
          const m = await s.next(100);
          if (m.event === 'event') events++;
          if (m.event === 'skipped') skipped += data(m).count;
        }
        return events + skipped;
      },
      (n) => n >= 200,
      5000,
      50,
    );
    expect(events).toBe(50);
    expect(skipped).toBe(150);
  });

  it('publishes nothing for a source nobody listens to (the publish counter stands still, the channel stays silent)', async () => {
    const quiet = await createSource(t);
    const spy = new Redis(REDIS_URL);
    const heard: string[] = [];
    spy.on('pmessage', (_p, channel: string) => heard.push(channel));
    await spy.psubscribe(`${t.config.redis.prefix}:live:events:*`);
    try {
      expect(await metric('sluice_live_listeners')).toBe(0);
      const before = await metric('sluice_live_events_total{outcome="sent"}');
      const skippedBefore = await metric('sluice_live_events_total{outcome="skipped"}');
      for (let i = 0; i < 5; i++) expect((await post('/v1/track', { userId: 'u', event: 'unheard' }, quiet.writeKey)).status).toBe(200);
      expect((await post('/v1/batch', { batch: [{ type: 'track', userId: 'u', event: 'unheard' }] }, quiet.writeKey)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 300));
      expect(await metric('sluice_live_events_total{outcome="sent"}')).toBe(before);
      expect(await metric('sluice_live_events_total{outcome="skipped"}')).toBe(skippedBefore);
      expect(heard).toEqual([]);
    } finally {
      spy.disconnect();
    }
  });

  it('cleans up when the listener disconnects: the gauge goes back to 0 and the registry entry goes', async () => {
    const s = await live(`/v1/sources/${source.id}/live`, readThis);
    await s.next();
    expect(await metric('sluice_live_listeners')).toBe(1);
    const redis = new Redis(REDIS_URL);
    try {
      const key = `${t.config.redis.prefix}:live:listeners`;
      expect((await redis.zrange(key, 0, -1)).some((m) => m.startsWith(`${source.id} `))).toBe(true);
      s.close();
      expect(await waitFor(() => metric('sluice_live_listeners'), (n) => n === 0, 5000)).toBe(0);
      expect(await waitFor(() => redis.zrange(key, 0, -1), (m) => m.length === 0, 5000)).toEqual([]);
      expect(await waitFor(async () => Number(((await redis.pubsub('NUMSUB', `${t.config.redis.prefix}:live:events:${source.id}`)) as [string, number])[1]), (n) => n === 0, 5000)).toBe(0);
    } finally {
      redis.disconnect();
    }
  });

  it('ends the stream when its key is revoked', async () => {
    const keys = t.app.get(KeysService);
    const k = await keys.createKey({ kind: 'read', sourceIds: [source.id] }, CLI_ACTOR);
    const s = await live(`/v1/sources/${source.id}/live`, k.key);
    expect((await s.next()).event).toBe('hello');
    await keys.revokeKey(k.id, CLI_ACTOR);
    await s.ended;
    expect(await waitFor(() => metric('sluice_live_listeners'), (n) => n === 0, 5000)).toBe(0);
  });

  describe('two api instances sharing Redis', () => {
    let accepting: TestApp;
    let serving: TestApp;
    let servingUrl: string;

    beforeAll(async () => {
      // One prefix: the same installation. `accepting` takes the events, `serving` has the listener.
      const shared = { API_RATE_LIMIT_RPS: '0', QUEUE_PREFIX: `${t.config.redis.prefix}_pair`, ROLE: 'api' };
      accepting = await startApp(shared);
      serving = await startApp({ ...shared, LIVE_MAX_LISTENERS: '1' });
      servingUrl = await baseUrl(serving.app);
    });
    afterAll(async () => {
      await accepting.close();
      await serving.close();
    });

    it('the api that accepted an event publishes it to the listener another api serves', async () => {
      const src = await createSource(accepting);
      const key = (await accepting.app.get(KeysService).createKey({ kind: 'read', sourceIds: [src.id] }, CLI_ACTOR)).key;
      const s = await live(`/v1/sources/${src.id}/live`, key, servingUrl);
      expect((await s.next()).event).toBe('hello');
      const res = await post('/v1/track', { userId: 'u', event: 'Cross Replica', messageId: 'x-1' }, src.writeKey, accepting);
      expect(res.status).toBe(200);
      const m = await s.next(1000);
      expect(m).toMatchObject({ event: 'event', id: 'x-1' });
      expect(data(m).name).toBe('Cross Replica');

      // LIVE_MAX_LISTENERS=1 on the serving api: the next listener gets 503 with Retry-After.
      const full = await live(`/v1/sources/${src.id}/live`, key, servingUrl);
      expect(full.status).toBe(503);
      expect(full.headers.get('retry-after')).toBe('5');
      expect(full.body).toMatchObject({ reason: 'live_listeners_full', message: expect.stringContaining('LIVE_MAX_LISTENERS') });

      // The graceful drain ends the open stream instead of waiting for it.
      const started = Date.now();
      await serving.close();
      await s.ended;
      expect(Date.now() - started).toBeLessThan(serving.config.shutdownTimeoutMs / 2);
      serving = { close: async () => undefined } as unknown as TestApp;
    });
  });
});
