import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config';
import { ApiKeysRepository } from './api-keys.repository';
import { hashKey, parseKey } from '../domain/key-format';
import { KeyInvalidationService } from './key-invalidation.service';
import { KeyPrincipal } from '../domain/principal';

interface CacheEntry {
  value: KeyPrincipal | null;
  expiresAt: number;
}

const MAX_CACHE_ENTRIES = 10_000;
// Unknown keys are remembered briefly too, so a client hammering with a bad key costs no
// database round trip per request.
const NEGATIVE_TTL_MS = 1000;
const LAST_USED_FLUSH_MS = 10_000;

/**
 * Verifies presented keys without a database round trip per request: verified keys are cached
 * for KEY_CACHE_TTL_MS and dropped on every invalidation message. `last_used_at` is collected in
 * memory and written for all keys at once every 10 s.
 */
@Injectable()
export class CredentialsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(CredentialsService.name);
  private readonly cache = new Map<string, CacheEntry>();
  private used = new Set<string>();
  private flushTimer?: NodeJS.Timeout;

  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly config: AppConfig,
    invalidation: KeyInvalidationService,
  ) {
    invalidation.onInvalidate(() => this.cache.clear());
  }

  onModuleInit(): void {
    this.flushTimer = setInterval(() => void this.flushLastUsed(), LAST_USED_FLUSH_MS);
    this.flushTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.flushLastUsed();
  }

  async verify(presented: string): Promise<KeyPrincipal | null> {
    if (!parseKey(presented)) return null; // not even shaped like a key: no lookup at all
    // Cached by the presented string (already in this process's memory for the request), so a
    // cache hit costs no hashing; the database is only ever asked by hash.
    const cacheKey = presented;
    const now = Date.now();
    const hit = this.cache.get(cacheKey);
    let value: KeyPrincipal | null;
    if (hit && hit.expiresAt > now) value = hit.value;
    else {
      value = await this.keys.findActiveByHash(hashKey(presented));
      if (this.cache.size >= MAX_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(cacheKey, { value, expiresAt: now + (value ? this.config.keyCacheTtlMs : Math.min(NEGATIVE_TTL_MS, this.config.keyCacheTtlMs)) });
    }
    if (value) this.used.add(value.id);
    return value;
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
