/**
 * At most `max` takes per one-second window (a fixed window, restarted by the first take after
 * it ends): the live debugger's sampling, on the publishing api per source and per listener.
 */
export class RateWindow {
  private start = -Infinity;
  private used = 0;

  constructor(private readonly max: number) {}

  /** True when one more fits in the current second; the caller counts a false as skipped. */
  take(now: number): boolean {
    if (now - this.start >= 1000) {
      this.start = now;
      this.used = 0;
    }
    if (this.used >= this.max) return false;
    this.used++;
    return true;
  }
}
