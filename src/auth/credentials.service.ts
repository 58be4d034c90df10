import { HttpStatus, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { RetryLaterException } from '../common/errors';
import { AppConfig } from '../config';
import { hashKey, parseKey } from '../domain/key-format';
import { KeyPrincipal } from '../domain/principal';
import { MetricsService } from '../metrics/metrics.service';
import { ApiKeysRepository } from './api-keys.repository';
import { KeyInvalidationService } from './key-invalidation.service';
import { TokenBuckets } from './token-bucket';

interface CacheEntry {
  value: KeyPrincipal | null;
  expiresAt: number;
}

const MAX_CACHE_ENTRIES = 10_000;
// A presented key that is wrong (revoked, expired, bad secret) never becomes valid (revocation
// and expiry only move one way), so it is remembered as long as an unknown id: a client
// hammering with it costs no database round trip per request.
const NEGATIVE_TTL_MS = 30_000;
// A key id no key has: every key with that id is refused without a lookup for this long. Ids
// are random (~47 bits), and creating a key drops every cache, so this never hides a real key.
const UNKNOWN_ID_TTL_MS = 30_000;
const LAST_USED_FLUSH_MS = 10_000;

/**
 * Verifies presented keys without a database round trip per request: verified keys are cached
 * (least recently used evicted first) for KEY_CACHE_TTL_MS and dropped on every invalidation
 * message; unknown key ids and wrong keys are cached too. What still needs the database (a key
 * this process has not seen) is limited per client IP and per process before the lookup, so
 * random keys cannot flood PostgreSQL. `last_used_at` is written for all keys every 10 s.
 */
@Injectable()
export class CredentialsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(CredentialsService.name);
  private readonly cache = new Map<string, CacheEntry>();
  private readonly unknownIds = new Map<string, number>();
  // One lookup per presented key at a time: after a restart, the burst of requests carrying the
  // same (valid) key waits for one lookup and is charged once against the per-IP limit.
  private readonly inflight = new Map<string, Promise<KeyPrincipal | null>>();
  private readonly perIp: TokenBuckets;
  private readonly overall: TokenBuckets;
  private used = new Set<string>();
  private flushTimer?: NodeJS.Timeout;

  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    invalidation: KeyInvalidationService,
  ) {
    invalidation.onInvalidate((what) => {
      this.unknownIds.clear();
      this.inflight.clear(); // a lookup begun before the change may have read the old row
      if (what === 'changed') this.cache.clear();
      else for (const [k, e] of this.cache) if (!e.value) this.cache.delete(k);
    });
    this.perIp = new TokenBuckets(config.keyLookups.perIp, Math.max(1, config.keyLookups.perIp * 2));
    this.overall = new TokenBuckets(config.keyLookups.perSecond, Math.max(1, config.keyLookups.perSecond * 2), 1);
  }

  onModuleInit(): void {
    this.flushTimer = setInterval(() => void this.flushLastUsed(), LAST_USED_FLUSH_MS);
    this.flushTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.flushLastUsed();
  }

  /**
   * The key's principal if it is valid now, else null. `clientIp` is whoever presents it (after
   * TRUST_PROXY); over KEY_LOOKUPS_PER_IP uncached keys a second from one address: 429.
   */
  async verify(presented: string, clientIp = 'unknown'): Promise<KeyPrincipal | null> {
    const parsed = parseKey(presented);
    if (!parsed) return null; // not even shaped like a key: no lookup at all
    const now = Date.now();
    // Cached by the presented string (already in this process's memory for the request), so a
    // cache hit costs no hashing; the database is only ever asked by key id.
    const hit = this.cache.get(presented);
    let value: KeyPrincipal | null;
    if (hit && hit.expiresAt > now) {
      value = hit.value;
      // Least recently used goes first: a hit moves the entry to the back.
      this.cache.delete(presented);
      this.cache.set(presented, hit);
    } else {
      const unknownUntil = this.unknownIds.get(parsed.keyId);
      if (unknownUntil !== undefined && unknownUntil > now) return null;
      let pending = this.inflight.get(presented);
      if (!pending) {
        this.admitLookup(clientIp);
        pending = this.lookup(presented, parsed.keyId, now).finally(() => this.inflight.get(presented) === pending && this.inflight.delete(presented));
        this.inflight.set(presented, pending);
      }
      try {
        value = await pending;
      } catch (err) {
        // PostgreSQL down: a key verified before keeps working (revocations still arrive over
        // pub/sub and drop it), so ingestion rides out a database outage; an unseen key waits.
        if (hit) {
          this.logger.warn(`key lookup failed, using the last verification (${(err as Error).message})`);
          hit.expiresAt = now + Math.min(1000, this.config.keyCacheTtlMs || 1000);
          if (hit.value) this.used.add(hit.value.id);
          return hit.value;
        }
        throw new RetryLaterException(`Keys cannot be verified right now (the database is unavailable); retry after the Retry-After delay.`, 1);
      }
      if (!this.cache.has(presented) && this.cache.size >= MAX_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(presented, { value, expiresAt: now + (value ? this.config.keyCacheTtlMs : NEGATIVE_TTL_MS) });
    }
    if (value) this.used.add(value.id);
    return value;
  }

  private admitLookup(clientIp: string): void {
    const scope = !this.perIp.take(clientIp) ? 'ip' : !this.overall.take('all') ? 'process' : null;
    if (!scope) return;
    this.metrics.keyLookupsRefused.inc({ scope });
    throw new RetryLaterException(
      scope === 'ip'
        ? `Too many requests with keys this server has not verified yet from your address (at most ${this.config.keyLookups.perIp} a second); retry after 1 s.`
        : 'Too many requests with keys this server has not verified yet; retry after 1 s.',
      1,
      HttpStatus.TOO_MANY_REQUESTS,
      { reason: 'key_lookups_limited' },
    );
  }

  private async lookup(presented: string, keyId: string, now: number): Promise<KeyPrincipal | null> {
    const found = await this.keys.findByKeyId(keyId);
    if (!found) {
      if (this.unknownIds.size >= MAX_CACHE_ENTRIES) this.unknownIds.delete(this.unknownIds.keys().next().value as string);
      this.unknownIds.set(keyId, now + UNKNOWN_ID_TTL_MS);
      return null;
    }
    const matches = found.hash.length === 32 && timingSafeEqual(found.hash, hashKey(presented));
    return matches && found.active ? found.principal : null;
  }

  async flushLastUsed(): Promise<void> {
    if (this.used.size === 0) return;
    const ids = [...this.used];
    this.used = new Set();
    try {
      await this.keys.touchLastUsed(ids, new Date());
    } catch (err) {
      ids.forEach((id) => this.used.add(id));
      this.logger.warn(`could not record key usage (will retry): ${(err as Error).message}`);
    }
  }
}
