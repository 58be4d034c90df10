import { PassThrough } from 'node:stream';
import { KeyInvalidationService } from '../auth/key-invalidation.service';
import { AppConfig } from '../config';
import { MetricsService } from '../metrics/metrics.service';
import { AcceptedEvent, IncomingEvent, JobRequest } from '../queue/queue.constants';
import { parseLiveFilter } from './live-filter';
import { LiveRepository, LiveSubscription } from './live.repository';
import { LiveService } from './live.service';

const tick = () => new Promise((r) => setImmediate(r));
const SOURCE = '5b0e6c7e-8a0b-4c51-9b8e-0c1f3a0d8e21';
const OTHER = '0f6a3c1e-2b4d-4e8f-9a1b-3c5d7e9f1a2b';

/** The registry and channels in memory: a publish reaches this api's own subscriber, as Redis would. */
class FakeRepository {
  handlers?: LiveSubscription;
  readonly registry = new Map<string, number>();
  readonly subscribed = new Set<string>();
  readonly published: [string, string][] = [];
  async listen(h: LiveSubscription) {
    this.handlers = h;
  }
  async subscribeSource(id: string) {
    this.subscribed.add(id);
  }
  async unsubscribeSource(id: string) {
    this.subscribed.delete(id);
  }
  async register(ids: Iterable<string>, replica: string, until: number) {
    for (const id of ids) this.registry.set(`${id} ${replica}`, until);
  }
  async unregister(ids: Iterable<string>, replica: string) {
    for (const id of ids) this.registry.delete(`${id} ${replica}`);
  }
  async listenedSources(now: number) {
    return new Set([...this.registry].filter(([, until]) => until >= now).map(([m]) => m.split(' ')[0]));
  }
  async nudge(m: string) {
    this.handlers?.onNudge(m);
  }
  async publish(id: string, m: string) {
    this.published.push([id, m]);
    if (this.subscribed.has(id)) this.handlers?.onMessage(id, m);
    return 1;
  }
}

function counters() {
  const values: Record<string, number> = {};
  const inc = (labels: { outcome: string }, n = 1) => void (values[labels.outcome] = (values[labels.outcome] ?? 0) + n);
  let listeners = 0;
  const metrics = { liveEvents: { inc }, liveListeners: { inc: () => listeners++, dec: () => listeners-- } } as unknown as MetricsService;
  return { metrics, values, listeners: () => listeners };
}

async function service(maxEventsPerSecond = 3, maxListeners = 2) {
  const repo = new FakeRepository();
  const config = { servesApi: true, live: { maxEventsPerSecond, maxListeners } } as unknown as AppConfig;
  const m = counters();
  const invalidations: ((what: 'created' | 'changed') => void)[] = [];
  const invalidation = { onInvalidate: (l: (what: 'created' | 'changed') => void) => invalidations.push(l) } as unknown as KeyInvalidationService;
  const live = new LiveService(repo as unknown as LiveRepository, config, m.metrics, invalidation);
  live.onModuleInit();
  await tick();
  return { live, repo, invalidations, ...m };
}

const req: JobRequest = { s: SOURCE, t: '2026-12-03T23:00:00.000Z', context: { library: { name: 'batch' } } };
const event = (i: number, extra: Partial<IncomingEvent> = {}): AcceptedEvent => ({ req, e: { type: 'track', messageId: `m-${i}`, event: 'Order Completed', userId: 'u', ...extra } as IncomingEvent });

function frames(stream: PassThrough): string[] {
  const out: string[] = [];
  let buf = '';
  stream.on('data', (c: Buffer) => {
    buf += c.toString();
    const parts = buf.split('\n\n');
    buf = parts.pop()!;
    out.push(...parts);
  });
  return out;
}

describe('LiveService', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_800_000_000_000, doNotFake: ['setImmediate', 'nextTick'] }));
  afterEach(() => jest.useRealTimers());

  it('publishes nothing (and keeps no state) for a source nobody listens to', async () => {
    const { live, repo, values } = await service();
    live.offer(SOURCE, [event(1), event(2)]);
    expect(repo.published).toEqual([]);
    expect(values).toEqual({});
  });

  it('says hello, then streams accepted events (envelope merged, no writeKey) with their messageId as id', async () => {
    const { live, repo, listeners } = await service();
    const stream = await live.open(SOURCE, parseLiveFilter({}));
    const got = frames(stream);
    await tick();
    expect(got).toEqual([`event: hello\ndata: {"sourceId":"${SOURCE}","maxEventsPerSecond":3}`]);
    expect(listeners()).toBe(1);
    expect([...repo.registry.keys()][0]).toMatch(new RegExp(`^${SOURCE} `));

    live.offer(SOURCE, [event(1, { writeKey: 'wk_secret' } as Partial<IncomingEvent>)]);
    await tick();
    expect(got).toHaveLength(2);
    const [id, kind, data] = got[1].split('\n');
    expect(id).toBe('id: m-1');
    expect(kind).toBe('event: event');
    const body = JSON.parse(data.slice('data: '.length));
    expect(body).toEqual({ messageId: 'm-1', type: 'track', name: 'Order Completed', receivedAt: req.t, payload: { type: 'track', messageId: 'm-1', event: 'Order Completed', userId: 'u', context: { library: { name: 'batch' } } } });
    expect(got.join()).not.toContain('wk_secret');
  });

  it('samples to maxEventsPerSecond per source on the publishing side and reports the rest as skipped, once a second', async () => {
    const { live, repo, values } = await service(3);
    const got = frames(await live.open(SOURCE, parseLiveFilter({})));
    live.offer(SOURCE, Array.from({ length: 10 }, (_, i) => event(i)));
    live.offer(SOURCE, [event(10)]);
    await tick();
    expect(repo.published).toHaveLength(3);
    expect(values).toEqual({ sent: 3, skipped: 8 });
    jest.advanceTimersByTime(1000);
    await tick();
    expect(got.filter((f) => f.startsWith('event: skipped'))).toEqual(['event: skipped\ndata: {"count":8}']);
    jest.advanceTimersByTime(1000);
    await tick();
    expect(got.filter((f) => f.startsWith('event: skipped'))).toHaveLength(1); // nothing more skipped: no frame
    expect(repo.published.map(([, m]) => m).filter((m) => m.startsWith('{"skipped"'))).toEqual(['{"skipped":8}']);
    live.offer(SOURCE, [event(11)]); // a new second
    await tick();
    expect(repo.published.filter(([, m]) => m.startsWith('{"messageId"'))).toHaveLength(4);
  });

  it('applies each listener its own filter', async () => {
    const { live } = await service(50);
    const tracks = frames(await live.open(SOURCE, parseLiveFilter({ type: 'track', event: 'Order Completed' })));
    const identifies = frames(await live.open(SOURCE, parseLiveFilter({ type: 'identify' })));
    live.offer(SOURCE, [event(1), event(2, { event: 'Other' }), { req, e: { type: 'identify', messageId: 'i-1', userId: 'u' } as IncomingEvent }]);
    await tick();
    expect(tracks.slice(1).map((f) => f.split('\n')[0])).toEqual(['id: m-1']);
    expect(identifies.slice(1).map((f) => f.split('\n')[0])).toEqual(['id: i-1']);
    expect(JSON.parse(identifies[1].split('\n')[2].slice(6)).name).toBeNull();
  });

  it('learns of another replica\'s listener from its nudge, and forgets it when the registry no longer has it', async () => {
    const { live, repo } = await service();
    repo.handlers!.onNudge(`+${OTHER}`);
    live.offer(OTHER, [event(1)]);
    expect(repo.published).toHaveLength(1);
    jest.advanceTimersByTime(2000); // the poll: no entry for OTHER in the registry
    await tick();
    live.offer(OTHER, [event(2)]);
    expect(repo.published).toHaveLength(1);
  });

  it('refuses a listener over LIVE_MAX_LISTENERS with 503 and Retry-After', async () => {
    const { live } = await service(3, 2);
    await live.open(SOURCE, parseLiveFilter({}));
    await live.open(OTHER, parseLiveFilter({}));
    await expect(live.open(SOURCE, parseLiveFilter({}))).rejects.toMatchObject({ status: 503, retryAfterSeconds: 5, response: { reason: 'live_listeners_full' } });
  });

  it('cleans up on disconnect: subscription, registry entry, gauge; then nothing is published', async () => {
    const { live, repo, listeners } = await service();
    const stream = await live.open(SOURCE, parseLiveFilter({}));
    expect(repo.subscribed.has(SOURCE)).toBe(true);
    stream.destroy();
    await tick();
    await tick();
    expect(listeners()).toBe(0);
    expect(live.listenerCount).toBe(0);
    expect(repo.subscribed.size).toBe(0);
    expect(repo.registry.size).toBe(0);
    jest.advanceTimersByTime(2000);
    await tick();
    live.offer(SOURCE, [event(1)]);
    expect(repo.published).toHaveLength(0);
  });

  it('pings every 15 s, and closeAll ends every stream', async () => {
    const { live, repo } = await service();
    const stream = await live.open(SOURCE, parseLiveFilter({}));
    const got = frames(stream);
    jest.advanceTimersByTime(15000);
    await tick();
    expect(got).toContain(': ping');
    const ended = new Promise((r) => stream.once('end', r));
    await live.closeAll();
    await ended;
    expect(repo.registry.size).toBe(0);
    await expect(live.open(SOURCE, parseLiveFilter({}))).rejects.toMatchObject({ status: 503 });
    live.onApplicationShutdown();
  });

  it('ends the stream of a key that may no longer read the source once keys change', async () => {
    const { live, invalidations } = await service();
    let valid = true;
    const kept = await live.open(SOURCE, parseLiveFilter({}));
    const revoked = await live.open(SOURCE, parseLiveFilter({}), async () => valid);
    const ended = new Promise((r) => revoked.once('close', r));
    revoked.resume();
    valid = false;
    invalidations.forEach((l) => l('changed'));
    await ended;
    expect(live.listenerCount).toBe(1);
    expect(kept.destroyed).toBe(false);
  });
});
