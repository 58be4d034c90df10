import autocannon from 'autocannon';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface LoadResult {
  tool: 'autocannon' | 'paced';
  connections: number;
  /** requests per second asked for (paced / overallRate), null for closed-loop max */
  targetRate: number | null;
  startedAt: number;
  finishedAt: number;
  elapsedSeconds: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** events the api said it accepted (sum of "accepted" in 200 bodies) and rejected */
  accepted: number;
  rejected: number;
  sampleErrors: string[];
}

export interface LoadSpec {
  url: string;
  path: string;
  headers: Record<string, string>;
  body: () => string;
  connections: number;
  durationSeconds: number;
  /** parse each 200 body and add up "accepted"/"rejected" (otherwise: 1 accepted per 200) */
  countAccepted?: boolean;
}

export function percentiles(samples: number[]): LoadResult['latencyMs'] {
  if (samples.length === 0) return { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
  const s = Float64Array.from(samples).sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  const r = (v: number) => Math.round(v * 100) / 100;
  let sum = 0;
  for (const v of s) sum += v;
  return { p50: r(at(0.5)), p90: r(at(0.9)), p99: r(at(0.99)), max: r(s[s.length - 1]), mean: r(sum / s.length) };
}

class Tally {
  accepted = 0;
  rejected = 0;
  sampleErrors: string[] = [];
  constructor(private readonly countAccepted: boolean) {}
  onBody(status: number, body: string): void {
    if (status < 200 || status > 299) {
      if (this.sampleErrors.length < 5) this.sampleErrors.push(`${status} ${body.slice(0, 300)}`);
      return;
    }
    if (!this.countAccepted) {
      this.accepted++;
      return;
    }
    try {
      const j = JSON.parse(body) as { accepted?: number; rejected?: unknown[] };
      this.accepted += j.accepted ?? 0;
      this.rejected += j.rejected?.length ?? 0;
      if (j.rejected?.length && this.sampleErrors.length < 5) this.sampleErrors.push(`200 with rejections: ${body.slice(0, 300)}`);
    } catch {
      if (this.sampleErrors.length < 5) this.sampleErrors.push(`unparseable 200 body: ${body.slice(0, 100)}`);
    }
  }
}

/**
 * Closed-loop load for a fixed duration: every connection sends its next request on each
 * answer. With `rate`, autocannon's overallRate (bursty: see runPaced).
 */
export function runAutocannon(spec: LoadSpec & { rate?: number }): Promise<LoadResult> {
  const tally = new Tally(spec.countAccepted ?? false);
  const latencies: number[] = [];
  const startedAt = Date.now();
  return new Promise((resolveRun, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: spec.durationSeconds,
        ...(spec.rate ? { overallRate: Math.max(1, Math.round(spec.rate)) } : {}),
        timeout: 10,
        requests: [
          {
            method: 'POST',
            path: spec.path,
            headers: spec.headers,
            setupRequest: (req) => ({ ...req, body: spec.body() }),
            onResponse: (status, body) => tally.onBody(status, body),
          },
        ],
      },
      (err, result) => {
        if (err) return reject(err);
        const finishedAt = Date.now();
        const elapsedSeconds = (finishedAt - startedAt) / 1000;
        const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([k, v]) => [k, v.count]));
        resolveRun({
          tool: 'autocannon',
          connections: spec.connections,
          targetRate: spec.rate ?? null,
          startedAt,
          finishedAt,
          elapsedSeconds,
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          statusCodes,
          requestsPerSecond: Math.round(result['2xx'] / elapsedSeconds),
          latencyMs: percentiles(latencies),
          accepted: tally.accepted,
          rejected: tally.rejected,
          sampleErrors: tally.sampleErrors,
        });
      },
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
}

/** One paced request: when it was due (epoch ms), its latency from then, and its status (0: a request error). */
export interface PacedSample {
  dueAt: number;
  ms: number;
  status: number;
}

/**
 * Open-loop load at a steady rate: request i is due at start + i/rate, whatever happened to
 * earlier ones, and its latency counts from when it was due (so a slow answer that holds up
 * the following requests is not hidden: no coordinated omission). autocannon's overallRate
 * cannot express this: it lets each connection send its whole per-second quota back to back
 * at the top of every second, which measures bursts at full speed rather than half the load.
 * `until` ends the run early (checked between sends: durationSeconds is then an upper bound);
 * `onSample` sees every request, for figures over a window of the run.
 */
export async function runPaced(spec: LoadSpec & { rate: number; until?: () => boolean; onSample?: (s: PacedSample) => void }): Promise<LoadResult> {
  const target = new URL(spec.url);
  const agent = new Agent({ keepAlive: true, maxSockets: spec.connections });
  const tally = new Tally(spec.countAccepted ?? false);
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  const total = Math.max(1, Math.round(spec.rate * spec.durationSeconds));
  const interval = 1000 / spec.rate;
  const startedAt = Date.now();
  const t0 = performance.now();
  const epoch = Date.now() - t0;
  const inflight = new Set<Promise<void>>();

  const send = (due: number) => {
    const body = spec.body();
    const p = new Promise<void>((done) => {
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: 'POST',
          path: spec.path,
          headers: { ...spec.headers, 'Content-Length': String(Buffer.byteLength(body)) },
          timeout: 10_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            statusCodes[status] = (statusCodes[status] ?? 0) + 1;
            const ms = performance.now() - due;
            if (status >= 200 && status < 300) {
              ok++;
              latencies.push(ms);
            } else non2xx++;
            spec.onSample?.({ dueAt: epoch + due, ms, status });
            tally.onBody(status, Buffer.concat(chunks).toString('utf8'));
            done();
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err) => {
        errors++;
        spec.onSample?.({ dueAt: epoch + due, ms: performance.now() - due, status: 0 });
        if (tally.sampleErrors.length < 5) tally.sampleErrors.push(`request error: ${err.message}`);
        done();
      });
      req.end(body);
    });
    inflight.add(p);
    void p.then(() => inflight.delete(p));
  };

  let next = 0;
  while (next < total && !spec.until?.()) {
    const now = performance.now();
    while (next < total && t0 + next * interval <= now) {
      send(t0 + next * interval);
      next++;
    }
    if (next < total) await new Promise((r) => setTimeout(r, Math.max(0, Math.min(5, t0 + next * interval - performance.now()))));
  }
  await Promise.all([...inflight]);
  agent.destroy();
  const finishedAt = Date.now();
  const elapsedSeconds = (finishedAt - startedAt) / 1000;
  return {
    tool: 'paced',
    connections: spec.connections,
    targetRate: spec.rate,
    startedAt,
    finishedAt,
    elapsedSeconds,
    ok,
    non2xx,
    errors,
    timeouts: 0,
    statusCodes,
    requestsPerSecond: Math.round(ok / elapsedSeconds),
    latencyMs: percentiles(latencies),
    accepted: tally.accepted,
    rejected: tally.rejected,
    sampleErrors: tally.sampleErrors,
  };
}
