import http from 'node:http';

/**
 * A raw HTTP client for the fuzz suites: the path, every header and every body byte go out
 * exactly as given (no URL normalisation, no re-encoding of strings, no added Content-Type),
 * over keep-alive connections to an app listening on 127.0.0.1. A request that gets no complete
 * answer within `timeoutMs` (a hang) or whose connection breaks rejects: for a fuzz suite that is
 * a failure, like a 5xx.
 */
export interface RawRequest {
  method: string;
  path: string;
  /** Header values are sent as latin1 (so "\xff" is the byte 0xff, as a broken client may send). */
  headers?: Record<string, string | undefined>;
  body?: Buffer;
  /** Send the body with Transfer-Encoding: chunked (no Content-Length), in pieces of this size. */
  chunked?: number;
  timeoutMs?: number;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export class FuzzClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  requests = 0;
  /** The request before the one being sent (a broken connection is often the previous answer's doing). */
  previous: RawRequest | undefined;
  private last: RawRequest | undefined;

  constructor(
    private readonly port: number,
    private readonly defaultTimeoutMs = 20_000,
  ) {}

  send(r: RawRequest): Promise<RawResponse> {
    this.requests++;
    this.previous = this.last;
    this.last = r;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers ?? {})) if (v !== undefined) headers[k] = v;
    if (r.body && !r.chunked) headers['Content-Length'] = String(r.body.length);
    if (r.chunked) headers['Transfer-Encoding'] = 'chunked';
    return new Promise<RawResponse>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: this.port, method: r.method, path: r.path, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        // A stream that was accepted (the live debugger's SSE) never ends: its first frame is the
        // answer, then the connection is closed, as a client that stops listening would.
        const stream = res.statusCode === 200 && String(res.headers['content-type'] ?? '').startsWith('text/event-stream');
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          if (!stream) return;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), json: undefined });
          req.destroy();
        });
        res.on('error', reject);
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      });
      const timer = setTimeout(() => {
        req.destroy(new Error(`no answer within ${r.timeoutMs ?? this.defaultTimeoutMs} ms: ${r.method} ${r.path.slice(0, 200)}`));
      }, r.timeoutMs ?? this.defaultTimeoutMs);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      if (r.body && r.chunked) {
        for (let i = 0; i < r.body.length; i += r.chunked) req.write(r.body.subarray(i, i + r.chunked));
        req.end();
      } else req.end(r.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** What every error answer must look like: JSON, the one error shape, a message a person can act on. */
export function errorShapeProblem(res: RawResponse): string | null {
  const ct = String(res.headers['content-type'] ?? '');
  if (!ct.startsWith('application/json')) return `error answer is not JSON (Content-Type "${ct}")`;
  const b = res.json as { success?: unknown; statusCode?: unknown; message?: unknown; reason?: unknown } | undefined;
  if (!b || typeof b !== 'object') return 'error answer has no JSON object body';
  if (b.success !== false) return 'error body lacks success: false';
  if (b.statusCode !== res.status) return `error body statusCode ${String(b.statusCode)} differs from the status ${res.status}`;
  if (typeof b.message !== 'string' || b.message.trim() === '') return 'error body has no message';
  // The exception filter answers 400 invalid_data when a value reached PostgreSQL that
  // validation should have stopped (and logs it as a bug): for the fuzz suites, a defect.
  if (b.reason === 'invalid_data') return 'a value reached PostgreSQL past validation (reason invalid_data)';
  return null;
}

/** A short, loggable description of a request (for failure messages). */
export function describeRequest(r: RawRequest): string {
  const body = r.body ? r.body.toString('latin1') : '';
  const hdrs = JSON.stringify(r.headers ?? {});
  return `${r.method} ${r.path.length > 300 ? `${r.path.slice(0, 300)}… (${r.path.length} chars)` : r.path} headers=${hdrs.slice(0, 400)} body(${r.body?.length ?? 0} bytes${r.chunked ? ', chunked' : ''})=${JSON.stringify(body.length > 600 ? `${body.slice(0, 600)}…` : body)}`;
}
