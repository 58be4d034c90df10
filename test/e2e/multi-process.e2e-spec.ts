import { waitFor, withDb } from '../support/app';
import { uniqueName } from '../support/env';
import { createSourceVia, startRole, stopRole, RoleProcess } from '../support/processes';
import { waitForDrain } from '../support/drain';
import { deleteRedisPrefix } from '../support/redis';

/**
 * api and worker as separate OS processes from the build, sharing PostgreSQL and Redis: more
 * than 10,000 events through HTTP (singles and batches, with duplicates and invalid events
 * mixed in) must end up in `events` exactly once each, also when a worker is SIGKILLed
 * mid-stream and restarted.
 */

interface Plan {
  requests: { path: string; body: unknown; invalidIndexes: number[] }[];
  expected: Set<string>;
  sentEvents: number;
}

function event(id: string, i: number) {
  return {
    type: 'track',
    userId: `user-${i % 97}`,
    event: 'Product Viewed',
    messageId: id,
    timestamp: new Date(Date.UTC(2026, 10, 25, 12, 0, 0, i)).toISOString(),
    properties: { sku: `sku-${i}`, price: i / 100, tags: ['a', 'b'] },
    context: { library: { name: 'multi-process-test', version: '1' }, page: { path: `/p/${i}` } },
  };
}

/** 2,000 single-event requests and 9,000 events in batches of 100, ~10 % of them repeats, ~4 % invalid. */
function makePlan(tag: string): Plan {
  const requests: Plan['requests'] = [];
  const expected = new Set<string>();
  let sentEvents = 0;
  let n = 0;
  const nextId = () => `${tag}-${n++}`;
  for (let i = 0; i < 2000; i++) {
    const id = nextId();
    expected.add(id);
    const { type: _t, ...body } = event(id, i);
    requests.push({ path: '/v1/track', body, invalidIndexes: [] });
    sentEvents++;
    if (i % 10 === 0) {
      requests.push({ path: '/v1/track', body: { ...body, timestamp: new Date(Date.now() - 20 * 86_400_000).toISOString() }, invalidIndexes: [] }); // a retry, other timestamp
      sentEvents++;
    }
  }
  for (let b = 0; b < 90; b++) {
    const batch: unknown[] = [];
    const invalidIndexes: number[] = [];
    for (let j = 0; j < 100; j++) {
      const idx = b * 100 + j;
      if (j % 25 === 7) {
        invalidIndexes.push(batch.length);
        batch.push({ type: 'track', event: 'no identity', messageId: `${tag}-invalid-${idx}` });
      } else if (j % 10 === 3 && b > 0) {
        batch.push(event(`${tag}-${(idx * 7) % n}`, idx)); // repeat of an earlier event
      } else {
        const id = nextId();
        expected.add(id);
        const e = event(id, idx);
        batch.push(e);
        if (j % 50 === 0) batch.push({ ...e }); // duplicate inside the same batch
      }
    }
    sentEvents += batch.length;
    requests.push({ path: '/v1/batch', body: { batch, sentAt: new Date().toISOString() }, invalidIndexes });
  }
  // Shuffle deterministically so singles and batches interleave.
  for (let i = requests.length - 1; i > 0; i--) {
    const j = (i * 7919) % (i + 1);
    [requests[i], requests[j]] = [requests[j], requests[i]];
  }
  return { requests, expected, sentEvents };
}


/** Sends every request (16 in flight), round-robin over the api processes; checks each answer. */
async function send(plan: Plan, apis: RoleProcess[], writeKey: string, onProgress?: (done: number) => Promise<void> | void): Promise<void> {
  let next = 0;
  let done = 0;
  const failures: string[] = [];
  const auth = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
  const worker = async () => {
    while (next < plan.requests.length) {
      const r = plan.requests[next];
      const api = apis[next % apis.length];
      next++;
      const res = await fetch(`${api.url}${r.path}`, { method: 'POST', headers: { Authorization: auth, 'Content-Type': 'application/json' }, body: JSON.stringify(r.body) });
      const body = (await res.json()) as { rejected?: { index: number }[] };
      if (res.status !== 200) failures.push(`${r.path} -> ${res.status} ${JSON.stringify(body)}`);
      else if (JSON.stringify((body.rejected ?? []).map((x) => x.index)) !== JSON.stringify(r.invalidIndexes)) failures.push(`${r.path}: rejected ${JSON.stringify(body.rejected)}`);
      done++;
      await onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  expect(failures.slice(0, 5)).toEqual([]);
}

async function stored(sourceId: string): Promise<{ total: number; distinct: number; ids: Set<string> }> {
  return withDb(async (db) => {
    const { rows } = await db.query('SELECT message_id FROM events WHERE source_id = $1', [sourceId]);
    const ids = new Set<string>(rows.map((r: { message_id: string }) => r.message_id));
    return { total: rows.length, distinct: ids.size, ids };
  });
}

async function expectExactlyOnce(prefix: string, sourceId: string, expected: Set<string>, sentAtMs: number): Promise<number> {
  const result = await waitFor(() => stored(sourceId), (s) => s.total >= expected.size, 120_000, 250);
  const seconds = (Date.now() - sentAtMs) / 1000;
  await waitForDrain(prefix, 120_000); // anything still in flight would show up now
  const final = await stored(sourceId);
  expect(final.total).toBe(expected.size);
  expect(final.distinct).toBe(expected.size);
  expect([...expected].filter((id) => !final.ids.has(id))).toEqual([]);
  expect(result.total).toBe(expected.size);
  const letters = await withDb(async (db) => (await db.query('SELECT count(*)::int AS n FROM dead_letters WHERE source_id = $1', [sourceId])).rows[0].n);
  expect(letters).toBe(0);
  return expected.size / seconds;
}

describe('api and worker as separate processes', () => {
  const prefix = uniqueName('mp');
  const fastRecovery = { JOB_LOCK_MS: '3000', JOB_STALLED_INTERVAL_MS: '1000' };
  afterAll(() => deleteRedisPrefix(prefix));

  it('two api and two worker processes store >10,000 mixed events exactly once, and drain on SIGTERM', async () => {
    const apis = [await startRole('api', prefix), await startRole('api', prefix)];
    const workers = [await startRole('worker', prefix, fastRecovery), await startRole('worker', prefix, fastRecovery)];
    try {
      const source = await createSourceVia(apis[0], uniqueName('mp'));
      const plan = makePlan('p1');
      expect(plan.sentEvents).toBeGreaterThan(10_000);
      const t0 = Date.now();
      await send(plan, apis, source.writeKey);
      const rate = await expectExactlyOnce(prefix, source.id, plan.expected, t0);
      console.log(`multi-process: ${plan.sentEvents} events sent, ${plan.expected.size} distinct valid stored exactly once; ~${Math.round(rate)} events/s persisted (first request to last commit)`);
    } finally {
      const codes = await Promise.all([...apis, ...workers].map((p) => stopRole(p)));
      expect(codes).toEqual([0, 0, 0, 0]);
    }
  });

  it('a worker SIGKILLed mid-stream and restarted loses and duplicates nothing', async () => {
    const api = await startRole('api', prefix);
    let worker = await startRole('worker', prefix, fastRecovery);
    try {
      const source = await createSourceVia(api, uniqueName('mp'));
      const plan = makePlan('p2');
      let killed = false;
      const t0 = Date.now();
      await send(plan, [api], source.writeKey, async (done) => {
        if (!killed && done === Math.floor(plan.requests.length / 3)) {
          killed = true;
          // Wait until the worker is inside a write, then kill it without warning.
          await waitFor(() => stored(source.id), (s) => s.total > 0, 10_000, 20);
          await stopRole(worker, 'SIGKILL');
          worker = await startRole('worker', prefix, fastRecovery);
        }
      });
      expect(killed).toBe(true);
      await expectExactlyOnce(prefix, source.id, plan.expected, t0);
    } finally {
      await stopRole(api);
      await stopRole(worker);
    }
  });

  it.each(['SIGTERM', 'SIGKILL'] as const)('every event acknowledged by an api that gets %s mid-stream is stored', async (signal) => {
    const api = await startRole('api', prefix, { LOG_LEVEL: 'info' });
    const worker = await startRole('worker', prefix, fastRecovery);
    try {
      const source = await createSourceVia(api, uniqueName('mp'));
      const auth = `Basic ${Buffer.from(`${source.writeKey}:`).toString('base64')}`;
      const acknowledged = new Set<string>();
      let n = 0;
      let stopped = false;
      const sender = async () => {
        while (!stopped) {
          const ids = Array.from({ length: 20 }, () => `${signal}-${n++}`);
          try {
            const res = await fetch(`${api.url}/v1/batch`, {
              method: 'POST',
              headers: { Authorization: auth, 'Content-Type': 'application/json' },
              body: JSON.stringify({ batch: ids.map((id, i) => event(id, i)) }),
            });
            if (res.status === 200) ids.forEach((id) => acknowledged.add(id));
            else if (res.status !== 503) throw new Error(`unexpected ${res.status}`);
          } catch (err) {
            // fetch fails (connection refused or reset) once the api is gone: stop sending.
            if (!/fetch failed/.test((err as Error).message)) throw err;
            stopped = true;
          }
        }
      };
      const senders = Array.from({ length: 8 }, sender);
      await waitFor(async () => acknowledged.size, (x) => x >= 2000, 30_000, 20);
      const code = await stopRole(api, signal);
      stopped = true;
      await Promise.all(senders);
      if (signal === 'SIGTERM') expect({ code, output: code === 0 ? '' : api.output() }).toEqual({ code: 0, output: '' });
      expect(acknowledged.size).toBeGreaterThanOrEqual(2000);
      const final = await waitFor(() => stored(source.id), (s) => [...acknowledged].every((id) => s.ids.has(id)), 60_000, 250);
      expect([...acknowledged].filter((id) => !final.ids.has(id))).toEqual([]);
      expect(final.total).toBe(final.distinct);
    } finally {
      await stopRole(api);
      await stopRole(worker);
    }
  });
});
