import { HttpClient } from './client';
import { fakeTarget, Handler, json } from './fake-target';
import { run, RunOptions } from './runner';
import { Traffic } from './traffic';

const after =
  (ms: number, h: Handler): Handler =>
  (req, body, res) =>
    void setTimeout(() => h(req, body, res), ms);

async function runAgainst(handlers: Handler[], o: Partial<RunOptions> & { batchShare?: number }) {
  const s = await fakeTarget(handlers);
  const client = new HttpClient(s.url, { maxSockets: o.maxInFlight ?? 100, timeoutMs: 5000 });
  try {
    const result = await run(
      client,
      new Traffic({ runId: 'spec', batchShare: o.batchShare ?? 0, batchSize: 4, gzip: true }),
      {
        stages: [{ durationS: 1, fromRps: 20, toRps: 20 }],
        maxInFlight: 100,
        writeKey: 'sk_write_spec',
        retry: { maxRetries: 2, maxRetryAfterS: 1 },
        sample: 1,
        ...o,
      },
    );
    return { result, requests: s.requests };
  } finally {
    client.close();
    await s.close();
  }
}

describe('run (open loop) against a fake target', () => {
  it('keeps sending on schedule while answers are slow, and measures latency from the intended time', async () => {
    const arrivals: number[] = [];
    const start = Date.now();
    const { result } = await runAgainst(
      [
        (req, body, res) => {
          arrivals.push(Date.now() - start);
          after(300, json(200, { success: true, accepted: 1, rejected: [] }))(req, body, res);
        },
      ],
      {},
    );
    expect(result.requests).toMatchObject({
      scheduled: 20,
      sent: 20,
      missed: 0,
      answered: 20,
      ok: 20,
      errors: 0,
    });
    // Not one after the other (that would take 20 × 300 ms): the last was sent before the first 300 ms answers piled up.
    expect(Math.max(...arrivals)).toBeLessThan(2000);
    expect(result.latencyMs.p50).toBeGreaterThanOrEqual(300);
    expect(result.statuses).toEqual({ '200': 20 });
    expect(result.ackedTotal).toBe(20);
    expect(result.sampledAcked).toHaveLength(20);
  });

  it('counts sends due while the in-flight limit is reached as missed, instead of sending them late', async () => {
    const { result, requests } = await runAgainst(
      [after(600, json(200, { success: true, accepted: 1, rejected: [] }))],
      { maxInFlight: 2 },
    );
    expect(result.requests.sent).toBe(requests.length);
    expect(result.requests.sent).toBeLessThanOrEqual(6);
    expect(result.requests.missed).toBe(20 - result.requests.sent);
  });

  it('honours Retry-After: a 429 is retried, counted, and its wait is in the latency', async () => {
    const ok = json(200, { success: true, accepted: 1, rejected: [] });
    const { result } = await runAgainst(
      [json(429, { message: 'slow down' }, { 'Retry-After': '0.2' }), ok],
      {},
    );
    expect(result.retries).toMatchObject({
      requestsRetried: 1,
      total: 1,
      on429: 1,
      on503: 0,
      gaveUp: 0,
    });
    expect(result.retries.waitedMs).toBe(200);
    expect(result.requests.ok).toBe(20);
    expect(result.latencyMs.max).toBeGreaterThanOrEqual(200);
  });

  it('does not count rejected events of a batch as acknowledged', async () => {
    const { result } = await runAgainst(
      [
        json(200, {
          success: true,
          accepted: 3,
          rejected: [{ index: 2, reason: 'missing_identity' }],
        }),
      ],
      { batchShare: 1, stages: [{ durationS: 0.5, fromRps: 4, toRps: 4 }] },
    );
    expect(result.requests.sent).toBe(2);
    expect(result.events).toMatchObject({ sent: 8, accepted: 6, rejected: 2 });
    expect(result.ackedTotal).toBe(6);
    expect([...result.sampledAcked].sort()).toEqual([
      'spec-0',
      'spec-1',
      'spec-3',
      'spec-4',
      'spec-5',
      'spec-7',
    ]);
  });

  it('stops at once with a readable reason when the write key is refused', async () => {
    const { result } = await runAgainst(
      [json(401, { statusCode: 401, message: 'Unknown write key', reason: 'invalid_key' })],
      {},
    );
    expect(result.aborted).toBe(
      '/v1/track answered 401: Unknown write key [invalid_key] (check --write-key)',
    );
    expect(result.requests.sent).toBeLessThan(20);
    expect(result.errorSamples[0]).toMatchObject({ status: '401' });
  });
});
