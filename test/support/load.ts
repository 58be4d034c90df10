const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface LoadOptions {
  clients?: number;
  batchSize?: number;
  /** Prefix of every messageId, so several loads can share a source. */
  tag?: string;
  /** Fields merged into each of the load's own events (e.g. a `timestamp` spread over days). */
  fields?: (c: number, n: number, i: number) => Record<string, unknown>;
  /** Extra events mixed into every batch (e.g. poison), not counted as the load's own. */
  extra?: (c: number, n: number) => Record<string, unknown>[];
}

/**
 * Clients that send batches with unique messageIds and retry each until it gets a 200, as SDKs
 * do. `acked` holds every messageId answered 200, `ackedAt` when its batch was answered.
 */
export class Load {
  readonly acked = new Set<string>();
  /** Last messageId of each acknowledged batch → when its 200 arrived (ms since epoch). */
  readonly ackedAt = new Map<string, number>();
  readonly statuses = new Map<number | string, number>();
  private running = true;
  private n = 0;
  private readonly loops: Promise<void>[];

  constructor(
    private readonly url: () => string,
    private readonly writeKey: string,
    private readonly opts: LoadOptions = {},
  ) {
    this.loops = Array.from({ length: opts.clients ?? 4 }, (_, c) => this.loop(c));
  }

  private count(k: number | string) {
    this.statuses.set(k, (this.statuses.get(k) ?? 0) + 1);
  }

  private async loop(c: number): Promise<void> {
    const size = this.opts.batchSize ?? 50;
    while (this.running) {
      const n = this.n++;
      const ids = Array.from({ length: size }, (_, i) => `${this.opts.tag ?? 'load'}-${c}-${n}-${i}`);
      const batch: Record<string, unknown>[] = ids.map((messageId, i) => ({ type: 'track', userId: `u${c}`, event: 'load', messageId, properties: { c, n }, ...this.opts.fields?.(c, n, i) }));
      const body = JSON.stringify({ batch: [...batch, ...(this.opts.extra?.(c, n) ?? [])] });
      for (;;) {
        try {
          const res = await fetch(`${this.url()}/v1/batch`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from(`${this.writeKey}:`).toString('base64')}` },
            body,
            signal: AbortSignal.timeout(10_000),
          });
          this.count(res.status);
          await res.arrayBuffer();
          if (res.status === 200) {
            ids.forEach((id) => this.acked.add(id));
            this.ackedAt.set(ids[ids.length - 1], Date.now());
            break;
          }
        } catch (err) {
          this.count((err as Error).name);
        }
        if (!this.running) return; // an unacknowledged batch at the end is the client's to keep
        await sleep(200);
      }
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

/** One sample of a Prometheus metric (the first series of that name), or null. */
export async function metric(url: string, name: string): Promise<number | null> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}
