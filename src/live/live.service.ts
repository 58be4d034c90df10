import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { RetryLaterException } from '../common/errors';
import { KeyInvalidationService } from '../auth/key-invalidation.service';
import { AppConfig } from '../config';
import { MetricsService } from '../metrics/metrics.service';
import { AcceptedEvent, queuedEvent } from '../queue/queue.constants';
import { LiveFilter, matchesFilter } from './live-filter';
import { LiveRepository } from './live.repository';
import { RateWindow } from './rate-window';
import { LiveEventData, SSE_PING, sseFrame } from './sse';

/** How often an api re-reads the listener registry (it also learns at once from nudges). */
const POLL_MS = 2000;
/** How often a serving api refreshes its registry entries, and how long one lives without it. */
const REFRESH_MS = 5000;
const ENTRY_TTL_MS = 15000;
const PING_MS = 15000;
/** How often every listener's key is checked again (expiry); revocations are checked at once. */
const RECHECK_MS = 60000;
/** A listener whose client reads slower than events come: beyond this many buffered bytes its events are skipped, not queued. */
const MAX_BUFFERED_BYTES = 1 << 20;

interface Listener {
  sourceId: string;
  filter: LiveFilter;
  stream: PassThrough;
  window: RateWindow;
  skipped: number;
  /** Whether the listener's key may still read the source (revoked, expired, rescoped: no). */
  allowed?: () => Promise<boolean>;
}

/** Sampling state of a listened-to source on the publishing side. */
interface Outgoing {
  window: RateWindow;
  skipped: number;
}

/**
 * The live debugger. Publishing side (every api): which sources some replica listens to, held in
 * memory (the Redis registry, polled every 2 s, plus nudges); an accepted event of such a source
 * is sampled (LIVE_MAX_EVENTS_PER_SECOND per source) and published on the source's channel.
 * Serving side: the streams of this api's listeners, subscribed to their sources' channels.
 */
@Injectable()
export class LiveService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(LiveService.name);
  private readonly replicaId = randomUUID();
  /** Sources some replica has a listener of: the one check ingestion makes per request. */
  private watched: ReadonlySet<string> = new Set();
  /** When a nudge (or a local listener) added a source: a poll sent before that must not drop it. */
  private readonly addedAt = new Map<string, number>();
  private readonly outgoing = new Map<string, Outgoing>();
  private readonly listeners = new Set<Listener>();
  private readonly bySource = new Map<string, Set<Listener>>();
  /** The subscription and registration of a source's first listener here, which later ones wait for too. */
  private readonly joining = new Map<string, Promise<void>>();
  /** Opens reserved but not yet answered (they count against LIVE_MAX_LISTENERS). */
  private opening = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private closing = false;
  private lastPublishWarning = 0;

  constructor(
    private readonly repository: LiveRepository,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly invalidation: KeyInvalidationService,
  ) {}

  onModuleInit(): void {
    if (!this.config.servesApi) return;
    const every = (ms: number, fn: () => unknown) => this.timers.push(setInterval(fn, ms).unref());
    every(POLL_MS, () => this.poll());
    every(REFRESH_MS, () => this.refresh());
    every(1000, () => this.flushSkipped());
    every(PING_MS, () => this.listeners.forEach((l) => l.stream.write(SSE_PING)));
    every(RECHECK_MS, () => this.recheck());
    // After the credential cache dropped what changed (its listener runs in the same turn).
    this.invalidation.onInvalidate((what) => {
      if (what === 'changed' && this.listeners.size > 0) setImmediate(() => void this.recheck());
    });
    // Not awaited: an api starts (and serves its health routes) while Redis is unreachable; the
    // subscriber connects and subscribes whenever Redis is back.
    this.repository
      .listen({
        onNudge: (m) => this.onNudge(m),
        onMessage: (sourceId, m) => this.deliver(sourceId, m),
        onReady: () => void this.poll(),
      })
      .catch((err: Error) => this.logger.warn(`live debugger: cannot subscribe to nudges (${err.message}); listeners are learnt from the registry every ${POLL_MS} ms`));
    void this.poll();
  }

  /**
   * Called by ingestion with the events of one request once they are in Redis. Nobody listening
   * to the source anywhere (the usual case): one Set lookup, nothing allocated.
   */
  offer(sourceId: string, events: readonly AcceptedEvent[]): void {
    if (!this.watched.has(sourceId)) return;
    this.publish(sourceId, events);
  }

  private publish(sourceId: string, events: readonly AcceptedEvent[]): void {
    let out = this.outgoing.get(sourceId);
    if (!out) this.outgoing.set(sourceId, (out = { window: new RateWindow(this.config.live.maxEventsPerSecond), skipped: 0 }));
    const now = Date.now();
    let sent = 0;
    for (const { req, e } of events) {
      if (!out.window.take(now)) {
        out.skipped++;
        continue;
      }
      const { writeKey: _never, ...payload } = queuedEvent(req, e).e as unknown as Record<string, unknown>;
      const data: LiveEventData = { messageId: e.messageId, type: e.type, name: eventName(e), receivedAt: req.t, payload };
      this.send(sourceId, JSON.stringify(data));
      sent++;
    }
    if (sent > 0) this.metrics.liveEvents.inc({ outcome: 'sent' }, sent);
    if (sent < events.length) this.metrics.liveEvents.inc({ outcome: 'skipped' }, events.length - sent);
  }

  private send(sourceId: string, message: string): void {
    this.repository.publish(sourceId, message).catch((err: Error) => {
      const now = Date.now();
      if (now - this.lastPublishWarning < 10000) return;
      this.lastPublishWarning = now;
      this.logger.warn(`live debugger: an event was not published (${err.message}); listeners miss it, ingestion is not affected`);
    });
  }

  /**
   * A new listener's stream: the hello frame is written once this api subscribed to the source
   * and registered the listener, so events accepted from then on (by any api) reach it.
   * Over LIVE_MAX_LISTENERS: 503 with Retry-After.
   */
  async open(sourceId: string, filter: LiveFilter, allowed?: () => Promise<boolean>): Promise<PassThrough> {
    const max = this.config.live.maxListeners;
    if (this.closing || this.listeners.size + this.opening >= max) {
      throw new RetryLaterException(
        max === 0 ? 'The live debugger is off on this instance (LIVE_MAX_LISTENERS=0).' : `This instance already serves ${max} live listeners (LIVE_MAX_LISTENERS); retry later or close another stream.`,
        max === 0 ? 60 : 5,
        undefined,
        { reason: 'live_listeners_full' },
      );
    }
    this.opening++;
    try {
      let group = this.bySource.get(sourceId);
      if (!group) {
        this.bySource.set(sourceId, (group = new Set()));
        this.joining.set(sourceId, this.join(sourceId));
      }
      try {
        await this.joining.get(sourceId);
      } catch (err) {
        await this.forget(sourceId);
        throw new RetryLaterException(`The live debugger cannot reach Redis (${(err as Error).message}); retry.`, 1, undefined, { reason: 'live_unavailable' });
      }
      const listener: Listener = { sourceId, filter, stream: new PassThrough(), window: new RateWindow(this.config.live.maxEventsPerSecond), skipped: 0, allowed };
      group.add(listener);
      this.listeners.add(listener);
      this.metrics.liveListeners.inc();
      listener.stream.once('close', () => void this.remove(listener));
      listener.stream.write(sseFrame('hello', JSON.stringify({ sourceId, maxEventsPerSecond: this.config.live.maxEventsPerSecond })));
      return listener.stream;
    } finally {
      this.opening--;
    }
  }

  /** This api's first listener of a source: subscribe to its channel, register, tell the other apis. */
  private async join(sourceId: string): Promise<void> {
    this.watch(sourceId);
    await this.repository.subscribeSource(sourceId);
    await this.repository.register([sourceId], this.replicaId, Date.now() + ENTRY_TTL_MS);
    await this.repository.nudge(`+${sourceId}`);
  }

  /** Ends every stream (the api's graceful drain), so closing the HTTP server does not wait for them. */
  async closeAll(): Promise<void> {
    this.closing = true;
    for (const l of [...this.listeners]) {
      this.detach(l);
      l.stream.end();
    }
    await Promise.all([...this.bySource.keys()].map((s) => this.forget(s)));
  }

  onApplicationShutdown(): void {
    this.timers.forEach((t) => clearInterval(t));
    this.timers.length = 0;
    for (const l of this.listeners) l.stream.destroy();
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Ends the streams whose key may no longer read their source (a failed check keeps them: the database may be away). */
  private async recheck(): Promise<void> {
    await Promise.all(
      [...this.listeners].map(async (l) => {
        if (!l.allowed) return;
        const ok = await l.allowed().catch(() => true);
        if (!ok) l.stream.end();
      }),
    );
  }

  private async remove(listener: Listener): Promise<void> {
    if (this.detach(listener)) await this.forget(listener.sourceId);
  }

  /** Takes a listener out; true when it was its source's last one here. */
  private detach(listener: Listener): boolean {
    if (!this.listeners.delete(listener)) return false;
    this.metrics.liveListeners.dec();
    const group = this.bySource.get(listener.sourceId);
    group?.delete(listener);
    return !!group && group.size === 0;
  }

  /** This api serves no listener of the source any more: unsubscribe, leave the registry, tell the others. */
  private async forget(sourceId: string): Promise<void> {
    if (this.bySource.get(sourceId)?.size) return;
    this.bySource.delete(sourceId);
    this.joining.delete(sourceId);
    try {
      await this.repository.unsubscribeSource(sourceId);
      await this.repository.unregister([sourceId], this.replicaId);
      await this.repository.nudge(`-${sourceId}`);
    } catch (err) {
      this.logger.warn(`live debugger: could not leave the registry for a source (${(err as Error).message}); its entry lapses within ${ENTRY_TTL_MS} ms`);
    }
    // A listener of the source arrived while we were leaving: its subscription must stand.
    if (this.bySource.has(sourceId) && !this.closing) await this.join(sourceId).catch(() => undefined);
  }

  private watch(sourceId: string): void {
    this.addedAt.set(sourceId, Date.now());
    if (!this.watched.has(sourceId)) this.watched = new Set([...this.watched, sourceId]);
  }

  private onNudge(message: string): void {
    const sourceId = message.slice(1);
    if (message.startsWith('+')) this.watch(sourceId);
    else void this.poll(); // another replica may still listen to it
  }

  /** The registry's view replaces ours, except for sources added since the poll was sent. */
  private async poll(): Promise<void> {
    const sent = Date.now();
    try {
      const next = await this.repository.listenedSources(sent);
      for (const [s, at] of this.addedAt) {
        if (at >= sent) next.add(s);
        else this.addedAt.delete(s);
      }
      for (const s of this.bySource.keys()) next.add(s);
      this.watched = next;
      for (const s of this.outgoing.keys()) if (!next.has(s)) this.outgoing.delete(s);
    } catch {
      // Redis unavailable: keep what we know; ingestion answers 503 meanwhile anyway.
    }
  }

  private async refresh(): Promise<void> {
    try {
      await this.repository.register(this.bySource.keys(), this.replicaId, Date.now() + ENTRY_TTL_MS);
    } catch (err) {
      this.logger.warn(`live debugger: registry not refreshed (${(err as Error).message})`);
    }
  }

  /** One message of a source's channel, to each of this api's listeners of it that wants it. */
  private deliver(sourceId: string, message: string): void {
    const group = this.bySource.get(sourceId);
    if (!group || group.size === 0) return;
    let data: Partial<LiveEventData> & { skipped?: number };
    try {
      data = JSON.parse(message) as typeof data;
    } catch {
      return;
    }
    if (typeof data.skipped === 'number') {
      for (const l of group) l.skipped += data.skipped;
      return;
    }
    if (typeof data.messageId !== 'string' || typeof data.type !== 'string') return;
    const frame = sseFrame('event', message, data.messageId);
    const now = Date.now();
    for (const l of group) {
      if (!matchesFilter(l.filter, data.type, data.name ?? null)) continue;
      // Several apis publish a source's events, each up to the cap: the listener holds it too, and
      // a client that reads too slowly loses events rather than growing our memory.
      if (!l.window.take(now) || l.stream.writableLength > MAX_BUFFERED_BYTES) l.skipped++;
      else l.stream.write(frame);
    }
  }

  /** Once a second: skipped counts to the listeners (and the publishing side's to the channel). */
  private flushSkipped(): void {
    for (const [sourceId, out] of this.outgoing) {
      if (out.skipped === 0) continue;
      this.send(sourceId, JSON.stringify({ skipped: out.skipped }));
      out.skipped = 0;
    }
    for (const l of this.listeners) {
      if (l.skipped === 0) continue;
      l.stream.write(sseFrame('skipped', JSON.stringify({ count: l.skipped })));
      l.skipped = 0;
    }
  }
}

/** The name a live event shows: a track's event, a page's or screen's name. */
function eventName(e: { type: string; event?: string | null; name?: string | null }): string | null {
  const n = e.type === 'track' ? e.event : e.type === 'page' || e.type === 'screen' ? e.name : null;
  return typeof n === 'string' ? n : null;
}
