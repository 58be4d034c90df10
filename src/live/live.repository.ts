import { Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { AppConfig } from '../config';
import { RedisConnections } from '../redis/redis-connections';

/** What the subscriber connection hears: a listener appeared or went somewhere, or a source's event. */
export interface LiveSubscription {
  onNudge(message: string): void;
  onMessage(sourceId: string, message: string): void;
  /** The subscriber (re)connected: messages may have been missed meanwhile. */
  onReady(): void;
}

/**
 * Every Redis access of the live debugger:
 * - the listener registry, a sorted set `<prefix>:live:listeners` of `<sourceId> <replicaId>`
 *   scored by the time (ms) the entry lapses unless its replica refreshes it;
 * - `<prefix>:live:nudge`, where a replica says at once that a source gained (`+id`) or lost
 *   (`-id`) a listener, so other apis need not wait for their next poll of the registry;
 * - `<prefix>:live:events:<sourceId>`, the channel of a source's sampled events.
 */
@Injectable()
export class LiveRepository {
  private readonly registryKey: string;
  private readonly nudgeChannel: string;
  private readonly eventsChannel: string;
  private commands?: Redis;
  private subscriber?: Redis;

  constructor(
    private readonly redis: RedisConnections,
    private readonly config: AppConfig,
  ) {
    const prefix = config.redis.prefix;
    this.registryKey = `${prefix}:live:listeners`;
    this.nudgeChannel = `${prefix}:live:nudge`;
    this.eventsChannel = `${prefix}:live:events:`;
  }

  private get client(): Redis {
    this.commands ??= this.redis.create(this.config.redis.url, 'plain', { connectionName: 'sluice-live' });
    return this.commands;
  }

  /** Opens the subscriber connection and listens for nudges (every api, listener or not). */
  async listen(handlers: LiveSubscription): Promise<void> {
    const sub = this.redis.create(this.config.redis.url, 'subscriber', { connectionName: 'sluice-live-sub' });
    this.subscriber = sub;
    sub.on('message', (channel: string, message: string) => {
      if (channel === this.nudgeChannel) handlers.onNudge(message);
      else if (channel.startsWith(this.eventsChannel)) handlers.onMessage(channel.slice(this.eventsChannel.length), message);
    });
    sub.on('ready', () => handlers.onReady());
    await sub.subscribe(this.nudgeChannel);
  }

  async subscribeSource(sourceId: string): Promise<void> {
    await this.subscriber?.subscribe(this.eventsChannel + sourceId);
  }

  async unsubscribeSource(sourceId: string): Promise<void> {
    await this.subscriber?.unsubscribe(this.eventsChannel + sourceId);
  }

  /** Registers (or refreshes) this replica's listeners of these sources until `until` (ms), and prunes lapsed entries. */
  async register(sourceIds: Iterable<string>, replicaId: string, until: number): Promise<void> {
    const args: (string | number)[] = [];
    for (const id of sourceIds) args.push(until, `${id} ${replicaId}`);
    const multi = this.client.multi();
    if (args.length > 0) multi.zadd(this.registryKey, ...args);
    await multi.zremrangebyscore(this.registryKey, '-inf', Date.now()).exec();
  }

  async unregister(sourceIds: Iterable<string>, replicaId: string): Promise<void> {
    const members = [...sourceIds].map((id) => `${id} ${replicaId}`);
    if (members.length > 0) await this.client.zrem(this.registryKey, ...members);
  }

  /** The sources some replica serves a listener of now. */
  async listenedSources(now: number): Promise<Set<string>> {
    const members = await this.client.zrangebyscore(this.registryKey, now, '+inf');
    return new Set(members.map((m) => m.slice(0, m.indexOf(' '))));
  }

  async nudge(message: string): Promise<void> {
    await this.client.publish(this.nudgeChannel, message);
  }

  /** Fire and forget (the caller counts and logs a failure): one sampled event or skipped count of a source. */
  publish(sourceId: string, message: string): Promise<number> {
    return this.client.publish(this.eventsChannel + sourceId, message);
  }
}
