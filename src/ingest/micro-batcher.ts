interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Groups items from concurrent callers into one flush: at `maxItems`, or `maxDelayMs` after
 * the first pending item. Each caller's promise settles with the flush that carried its items,
 * so nobody is answered before their items are stored.
 */
export class MicroBatcher<T> {
  private pending: T[] = [];
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly flushFn: (items: T[]) => Promise<void>,
    private readonly opts: { maxItems: number; maxDelayMs: number },
  ) {}

  add(items: T[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    // A request that fills a flush on its own goes straight out: nothing to wait for.
    if (items.length >= this.opts.maxItems) return this.track(this.flushFn(items));
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    for (const item of items) this.pending.push(item);
    if (this.pending.length >= this.opts.maxItems) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.opts.maxDelayMs);
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

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
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
    const forget = () => this.inFlight.delete(p);
    p.then(forget, forget);
    return p;
  }
}
