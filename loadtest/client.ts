import http, { IncomingHttpHeaders } from 'node:http';
import https from 'node:https';

/**
 * A small HTTP client on Node's own http/https with keep-alive agents (one socket per request in
 * flight, reused), so the load test needs no dependency and costs the target no TLS handshake per
 * request. Transport failures are thrown as TransportError with a kind the report counts.
 */
export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export class TransportError extends Error {
  constructor(
    readonly kind: 'timeout' | 'connection',
    message: string,
  ) {
    super(message);
  }
}

export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

const MAX_BODY = 1 << 20; // answers are small JSON; keep at most 1 MB of one

export class HttpClient {
  private readonly agent: http.Agent;
  private readonly lib: typeof http | typeof https;

  constructor(
    private readonly base: URL,
    private readonly o: { maxSockets: number; timeoutMs: number },
  ) {
    this.lib = base.protocol === 'https:' ? https : http;
    const Agent = base.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: o.maxSockets,
      maxFreeSockets: o.maxSockets,
    });
  }

  request(spec: RequestSpec): Promise<Answer> {
    const url = new URL(
      spec.path.replace(/^\//, ''),
      this.base.href.endsWith('/') ? this.base : `${this.base.href}/`,
    );
    return new Promise<Answer>((resolve, reject) => {
      const req = this.lib.request(
        url,
        {
          method: spec.method,
          agent: this.agent,
          headers: {
            ...spec.headers,
            ...(spec.body ? { 'Content-Length': String(spec.body.length) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= MAX_BODY) chunks.push(c);
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', (e) => reject(new TransportError('connection', e.message)));
        },
      );
      req.setTimeout(this.o.timeoutMs, () =>
        req.destroy(new TransportError('timeout', `no answer within ${this.o.timeoutMs} ms`)),
      );
      req.on('error', (e) =>
        reject(
          e instanceof TransportError
            ? e
            : new TransportError(
                'connection',
                `${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`.trim(),
              ),
        ),
      );
      req.end(spec.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Basic auth as analytics.js and the Node SDK send it: the write key as user name, no password. */
export const basicAuth = (writeKey: string) =>
  `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;

/**
 * How long a Retry-After asks to wait (ms): delta-seconds or an HTTP date; null when absent or
 * unreadable. Never negative.
 */
export function retryAfterMs(
  header: string | string[] | undefined,
  nowMs = Date.now(),
): number | null {
  const v = Array.isArray(header) ? header[0] : header;
  if (v === undefined || v.trim() === '') return null;
  if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

export interface RetryPolicy {
  maxRetries: number;
  maxRetryAfterS: number;
  /** Waiting, replaceable in tests. */
  sleep?: (ms: number) => Promise<void>;
}

export interface Outcome {
  /** The final answer, or undefined after a transport error. */
  answer?: Answer;
  error?: TransportError;
  /** Retries made after a 429 or 503, and the statuses that caused them. */
  retries: number;
  retriedOn: number[];
  /** Total time waited per Retry-After (ms). */
  waitedMs: number;
}

const RETRY_STATUSES = new Set([429, 503]);
/** A 429/503 without Retry-After: wait this long (s), as the SDKs' backoff starts. */
const DEFAULT_RETRY_S = 1;

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Sends a request; on 429 or 503 waits what Retry-After says (at most maxRetryAfterS) and sends
 * it again, up to maxRetries times, as a well-behaved SDK does. Transport errors are not retried:
 * they are what the report counts.
 */
export async function sendWithRetry(
  client: HttpClient,
  spec: RequestSpec,
  policy: RetryPolicy,
): Promise<Outcome> {
  const sleep = policy.sleep ?? defaultSleep;
  const out: Outcome = { retries: 0, retriedOn: [], waitedMs: 0 };
  for (;;) {
    try {
      out.answer = await client.request(spec);
    } catch (e) {
      if (!(e instanceof TransportError)) throw e;
      out.error = e;
      out.answer = undefined;
      return out;
    }
    const a = out.answer;
    if (!RETRY_STATUSES.has(a.status) || out.retries >= policy.maxRetries) return out;
    const wait = Math.min(
      retryAfterMs(a.headers['retry-after']) ?? DEFAULT_RETRY_S * 1000,
      policy.maxRetryAfterS * 1000,
    );
    out.retries++;
    out.retriedOn.push(a.status);
    out.waitedMs += wait;
    await sleep(wait);
  }
}

/** The readable part of an error answer: Sluice's JSON `message` (and `reason`), else the body's start. */
export function errorMessage(a: Answer): string {
  try {
    const b = JSON.parse(a.body) as { message?: unknown; reason?: unknown };
    const m = Array.isArray(b.message) ? b.message.join('; ') : String(b.message ?? '');
    return (b.reason ? `${m} [${String(b.reason)}]` : m).slice(0, 300) || a.body.slice(0, 300);
  } catch {
    return a.body.slice(0, 300);
  }
}
