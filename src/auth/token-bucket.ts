/**
 * Token buckets by key (a client IP, or one shared key), in process memory: `rate` tokens a
 * second, bursts up to `burst`. At most `maxKeys` buckets are kept; the least recently used go
 * first, so a flood from many addresses cannot grow memory without bound.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** Takes one token; false when the bucket is empty. A rate of 0 means no limit. */
  take(key: string, now = Date.now()): boolean {
    if (this.rate <= 0) return true;
    const b = this.buckets.get(key);
    let tokens = this.burst;
    if (b) {
      tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
      this.buckets.delete(key);
    } else if (this.buckets.size >= this.maxKeys) {
      this.buckets.delete(this.buckets.keys().next().value as string);
    }
    const allowed = tokens >= 1;
    this.buckets.set(key, { tokens: allowed ? tokens - 1 : tokens, at: now });
    return allowed;
  }
}
