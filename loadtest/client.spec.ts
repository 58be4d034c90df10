import { basicAuth, errorMessage, HttpClient, retryAfterMs, sendWithRetry } from './client';
import { fakeTarget, json } from './fake-target';

describe('retryAfterMs', () => {
  it('reads delta-seconds and HTTP dates, and nothing else', () => {
    expect(retryAfterMs('5')).toBe(5000);
    expect(retryAfterMs(' 0.5 ')).toBe(500);
    expect(retryAfterMs(['2', '9'])).toBe(2000);
    const now = Date.parse('2026-12-03T10:00:00Z');
    expect(retryAfterMs('Thu, 03 Dec 2026 10:00:07 GMT', now)).toBe(7000);
    expect(retryAfterMs('Thu, 03 Dec 2026 09:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs(undefined)).toBeNull();
    expect(retryAfterMs('')).toBeNull();
    expect(retryAfterMs('soon')).toBeNull();
  });
});

describe('sendWithRetry against a fake server', () => {
  const post = {
    method: 'POST' as const,
    path: '/v1/track',
    headers: { Authorization: basicAuth('sk_write_k') },
    body: Buffer.from('{}'),
  };

  it('waits what Retry-After says on 429 and 503, then sends the same request again', async () => {
    const s = await fakeTarget([
      json(429, { message: 'slow down' }, { 'Retry-After': '2' }),
      json(503, { message: 'backlog' }, { 'Retry-After': '1' }),
      json(200, { success: true }),
    ]);
    const client = new HttpClient(s.url, { maxSockets: 2, timeoutMs: 2000 });
    const waits: number[] = [];
    try {
      const out = await sendWithRetry(client, post, {
        maxRetries: 3,
        maxRetryAfterS: 30,
        sleep: async (ms) => void waits.push(ms),
      });
      expect(out.answer!.status).toBe(200);
      expect(out).toMatchObject({ retries: 2, retriedOn: [429, 503], waitedMs: 3000 });
      expect(waits).toEqual([2000, 1000]);
      expect(s.requests).toHaveLength(3);
      expect(new Set(s.requests.map((r) => r.body.toString()))).toEqual(new Set(['{}']));
      expect(s.requests[0].headers.authorization).toBe(
        `Basic ${Buffer.from('sk_write_k:').toString('base64')}`,
      );
    } finally {
      client.close();
      await s.close();
    }
  });

  it('gives up after maxRetries and cuts a long Retry-After to maxRetryAfterS', async () => {
    const s = await fakeTarget([
      json(429, { message: 'over the limit' }, { 'Retry-After': '3600' }),
    ]);
    const client = new HttpClient(s.url, { maxSockets: 1, timeoutMs: 2000 });
    const waits: number[] = [];
    try {
      const out = await sendWithRetry(client, post, {
        maxRetries: 2,
        maxRetryAfterS: 5,
        sleep: async (ms) => void waits.push(ms),
      });
      expect(out.answer!.status).toBe(429);
      expect(out.retries).toBe(2);
      expect(waits).toEqual([5000, 5000]);
      expect(s.requests).toHaveLength(3);
      expect(errorMessage(out.answer!)).toBe('over the limit');
    } finally {
      client.close();
      await s.close();
    }
  });

  it('does not retry other errors, and reports a timeout as one', async () => {
    const s = await fakeTarget([
      json(401, { message: 'Unknown write key', reason: 'invalid_key' }),
      () => undefined,
    ]);
    const client = new HttpClient(s.url, { maxSockets: 1, timeoutMs: 200 });
    try {
      const refused = await sendWithRetry(client, post, { maxRetries: 3, maxRetryAfterS: 5 });
      expect(refused.answer!.status).toBe(401);
      expect(refused.retries).toBe(0);
      expect(errorMessage(refused.answer!)).toBe('Unknown write key [invalid_key]');
      const hung = await sendWithRetry(client, post, { maxRetries: 3, maxRetryAfterS: 5 });
      expect(hung.answer).toBeUndefined();
      expect(hung.error!.kind).toBe('timeout');
    } finally {
      client.close();
      await s.close();
    }
  });

  it('reports a refused connection as a connection error', async () => {
    const s = await fakeTarget([json(200, {})]);
    await s.close();
    const client = new HttpClient(s.url, { maxSockets: 1, timeoutMs: 1000 });
    const out = await sendWithRetry(client, post, { maxRetries: 1, maxRetryAfterS: 1 });
    client.close();
    expect(out.error!.kind).toBe('connection');
    expect(out.error!.message).toMatch(/ECONNREFUSED/);
  });
});
