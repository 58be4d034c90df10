interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface MicroBatcherOptions {
  /** Flush as soon as this many items are pending. */
  maxItems: number;
  /** Never hold an item longer than this before flushing. */
  maxDelayMs: number;
  /**
   * Adaptive mode: while fewer than this many flushes are under way, flush at the end of the
   * current event-loop turn (everything that arrived in it goes together) instead of waiting for
   * the timer; when that many are under way, gather items until one completes. Low load then
   * costs no added latency, and high load makes bigger batches by itself. 0: timer only.
   */
  maxInFlight?: number;
}

/**
 * Groups items from concurrent callers into one flush. Each caller's promise settles with the
 * flush that carried its items, so nobody is answered before their items are stored.
 */
export class MicroBatcher<T> {
  private pending: T[] = [];
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly flushFn: (items: T[]) => Promise<void>,
    private readonly opts: MicroBatcherOptions,
  ) {}

  add(items: T[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    // A request that fills a flush on its own goes straight out: nothing to wait for.
    if (items.length >= this.opts.maxItems) return this.track(this.flushFn(items));
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    for (const item of items) this.pending.push(item);
    if (this.pending.length >= this.opts.maxItems) this.flush();
    else this.schedule();
    return done;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** Flushes what is pending and waits for every flush under way (graceful shutdown). */
  async drain(): Promise<void> {
    this.flush();
    await Promise.allSettled([...this.inFlight]);
  }

  private schedule(): void {
    const eager = (this.opts.maxInFlight ?? 0) > 0;
    if (eager && this.inFlight.size < this.opts.maxInFlight! && !this.immediate) {
      this.immediate = setImmediate(() => {
        this.immediate = null;
        this.flush();
      });
    }
    if (!this.timer) this.timer = setTimeout(() => this.flush(), this.opts.maxDelayMs);
  }

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.immediate) {
      clearImmediate(this.immediate);
      this.immediate = null;
    }
    if (this.pending.length === 0) return;
    const items = this.pending;
    const waiters = this.waiters;
    this.pending = [];
    this.waiters = [];
    this.track(this.flushFn(items)).then(
      () => waiters.forEach((w) => w.resolve()),
      (err) => waiters.forEach((w) => w.reject(err)),
    );
  }

  private track(p: Promise<void>): Promise<void> {
    this.inFlight.add(p);
    const forget = () => {
      this.inFlight.delete(p);
      // A slot came free: what gathered meanwhile goes out now (adaptive mode).
      if (this.pending.length > 0 && (this.opts.maxInFlight ?? 0) > 0) this.schedule();
    };
    p.then(forget, forget);
    return p;
  }
}
