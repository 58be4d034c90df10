/**
 * A budget of bytes shared by the requests in flight: a request reserves its weight before its
 * body is read and gives it back when its response is done. While the budget is spent, new
 * requests wait in arrival order (their bodies stay unread in the socket, so TCP pushes back on
 * the client) until room frees up or their wait runs out. A request heavier than the whole budget
 * still runs, alone, so no valid request is refused for its size.
 */
export class ByteBudget {
  private used = 0;
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(readonly limit: number) {}

  /** Bytes reserved by requests in flight. */
  get inUse(): number {
    return this.used;
  }

  /** Requests waiting for room. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Resolves with a release function once `bytes` fit (at once when they do now and no one is
   * waiting ahead), or with null when `waitMs` passes first. Call the release exactly once.
   */
  reserve(bytes: number, waitMs: number): Promise<(() => void) | null> {
    if (this.waiting.length === 0 && this.fits(bytes)) return Promise.resolve(this.take(bytes));
    if (waitMs <= 0) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter: Waiter = { bytes, resolve, timer: undefined };
      waiter.timer = setTimeout(() => {
        const i = this.waiting.indexOf(waiter);
        if (i !== -1) this.waiting.splice(i, 1);
        resolve(null);
        // The one that timed out may have been blocking lighter ones behind it.
        this.wake();
      }, waitMs);
      this.waiting.push(waiter);
    });
  }

  private fits(bytes: number): boolean {
    return this.running === 0 || this.used + bytes <= this.limit;
  }

  private take(bytes: number): () => void {
    this.used += bytes;
    this.running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= bytes;
      this.running--;
      this.wake();
    };
  }

  /** First come, first served: a heavy request at the head is not overtaken by light ones. */
  private wake(): void {
    while (this.waiting.length > 0 && this.fits(this.waiting[0].bytes)) {
      const w = this.waiting.shift()!;
      clearTimeout(w.timer);
      w.resolve(this.take(w.bytes));
    }
  }
}

interface Waiter {
  bytes: number;
  resolve: (release: (() => void) | null) => void;
  timer: NodeJS.Timeout | undefined;
}
