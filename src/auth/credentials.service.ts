import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config';
import { ApiKeysRepository, VerifiedKey } from '../sources/api-keys.repository';
import { hashKey, parseKey } from '../sources/key-format';

interface CacheEntry {
  value: VerifiedKey | null;
  expiresAt: number;
}

const MAX_CACHE_ENTRIES = 10_000;
// Unknown keys are remembered briefly too, so a client hammering with a bad key costs no
// database round trip per request.
const NEGATIVE_TTL_MS = 1000;

/**
 * Verifies presented keys. Verified keys are cached in-process for KEY_CACHE_TTL_MS, which
 * bounds how long a revoked key keeps working on a replica.
 */
@Injectable()
export class CredentialsService {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly config: AppConfig,
  ) {}

  async verify(presented: string): Promise<VerifiedKey | null> {
    if (!parseKey(presented)) return null; // not even shaped like a key: no lookup at all
    const hash = hashKey(presented);
    const cacheKey = hash.toString('base64');
    const now = Date.now();
    const hit = this.cache.get(cacheKey);
    if (hit && hit.expiresAt > now) return hit.value;
    const value = await this.keys.findActiveByHash(hash);
    if (this.cache.size >= MAX_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(cacheKey, { value, expiresAt: now + (value ? this.config.keyCacheTtlMs : Math.min(NEGATIVE_TTL_MS, this.config.keyCacheTtlMs)) });
    return value;
  }

  invalidateAll(): void {
    this.cache.clear();
  }
}
