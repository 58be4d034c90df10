import { gzipSync } from 'node:zlib';
import { sdkEvent } from '../bench/lib/event-mix';

/**
 * What the load test sends: the bench's realistic event mix (bench/lib/event-mix.ts), as single
 * calls (`/v1/track`, `/v1/page`, `/v1/identify`, `/v1/group`, without `type`, like the SDKs'
 * per-call endpoints) and as `/v1/batch` bodies (`{batch, sentAt}`, like analytics-node's flush),
 * gzip-compressed as the SDKs send them. Every event carries a messageId `<runId>-<n>` and
 * `context.loadtest.run = runId`, so verification can ask for exactly this run's events.
 */
export interface Request {
  path: string;
  body: Buffer;
  gzip: boolean;
  /** The messageIds in the body, in order (a batch's `rejected[].index` points into it). */
  messageIds: string[];
}

export interface TrafficOptions {
  runId: string;
  batchShare: number;
  batchSize: number;
  gzip: boolean;
}

// Spreads batches evenly over the run (k·φ mod 1 is equidistributed): the share holds on any stretch.
const PHI = 0.6180339887498949;

export class Traffic {
  private events = 0;

  constructor(private readonly o: TrafficOptions) {}

  isBatch(k: number): boolean {
    return (k * PHI) % 1 < this.o.batchShare;
  }

  /** The k-th request of the run, built at its send time (timestamps and sentAt are then). */
  request(k: number, nowMs = Date.now()): Request {
    const sentAt = new Date(nowMs).toISOString();
    if (this.isBatch(k)) {
      const batch = Array.from({ length: this.o.batchSize }, () => this.event(nowMs));
      return this.encode(
        '/v1/batch',
        { batch, sentAt },
        batch.map((e) => e.messageId as string),
      );
    }
    const { type, ...body } = this.event(nowMs);
    return this.encode(`/v1/${String(type)}`, { ...body, sentAt }, [body.messageId as string]);
  }

  private event(nowMs: number): Record<string, unknown> {
    const i = this.events++;
    const e = sdkEvent(i, nowMs) as Record<string, unknown>;
    const context = { ...(e.context as Record<string, unknown>), loadtest: { run: this.o.runId } };
    return {
      ...e,
      messageId: `${this.o.runId}-${i}`,
      timestamp: new Date(nowMs).toISOString(),
      context,
    };
  }

  private encode(path: string, body: unknown, messageIds: string[]): Request {
    const json = Buffer.from(JSON.stringify(body));
    return { path, body: this.o.gzip ? gzipSync(json) : json, gzip: this.o.gzip, messageIds };
  }
}
