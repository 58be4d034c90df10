import { Answer, errorMessage, HttpClient, retryAfterMs, TransportError } from './client';

/**
 * Did every acknowledged event arrive? With a read (or admin) key: the receipt of each sampled
 * messageId (`GET /v1/sources/:sourceId/events/:messageId`: stored, dead-lettered with its
 * reason, or 404 not written yet), polled until every one is stored or the time is up; and the
 * count of this run's stored events (`GET /v1/sources/:sourceId/stats/counts`, filtered on
 * `context.loadtest.run`) against the number acknowledged. Query requests are paced under the
 * per-key query limit (API_RATE_LIMIT_RPS, 50/s by default) and honour a 429's Retry-After.
 */
export interface VerifyOptions {
  sourceId: string;
  readKey: string;
  runId: string;
  sampled: string[];
  ackedTotal: number;
  /** The run's window: the stored timestamps of its events fall inside it. */
  from: Date;
  to: Date;
  timeoutS: number;
  /** Query requests per second, at most. */
  rps?: number;
  concurrency?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface VerifyResult {
  checked: number;
  arrived: number;
  deadLettered: { messageId: string; reason: string }[];
  /** Sampled messageIds neither stored nor dead-lettered when the time ran out. */
  missing: string[];
  counts: { acknowledged: number; counted: number | null; ok: boolean };
  /** arrived / checked, and no more than counted / acknowledged. */
  verified: number;
  waitedS: number;
  /** Verification could not be done (key refused, source unknown): why. */
  error?: string;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

class Fatal extends Error {}

export async function verify(client: HttpClient, o: VerifyOptions): Promise<VerifyResult> {
  const sleep = o.sleep ?? defaultSleep;
  const started = Date.now();
  const deadline = started + o.timeoutS * 1000;
  const gap = 1000 / (o.rps ?? 40);
  let nextSlot = 0;
  const headers = {
    Authorization: `Bearer ${o.readKey}`,
    Accept: 'application/json',
    'User-Agent': 'sluice-loadtest',
  };
  const base = `/v1/sources/${encodeURIComponent(o.sourceId)}`;

  /** A paced GET; a 429 waits its Retry-After and asks again (until the deadline). */
  const get = async (path: string): Promise<Answer | null> => {
    for (;;) {
      const now = Date.now();
      nextSlot = Math.max(nextSlot + gap, now);
      if (nextSlot > now) await sleep(nextSlot - now);
      let a: Answer;
      try {
        a = await client.request({ method: 'GET', path, headers });
      } catch (e) {
        if (!(e instanceof TransportError)) throw e;
        if (Date.now() > deadline) return null;
        await sleep(1000);
        continue;
      }
      if (a.status === 401 || a.status === 403)
        throw new Fatal(
          `the query API refused the read key (${a.status}): ${errorMessage(a)} (check --read-key and that it may read --source-id)`,
        );
      if (a.status === 429 || a.status === 503) {
        if (Date.now() > deadline) return null;
        await sleep(Math.min(retryAfterMs(a.headers['retry-after']) ?? 1000, 10_000));
        continue;
      }
      return a;
    }
  };

  const result: VerifyResult = {
    checked: o.sampled.length,
    arrived: 0,
    deadLettered: [],
    missing: [],
    counts: { acknowledged: o.ackedTotal, counted: null, ok: false },
    verified: 0,
    waitedS: 0,
  };

  try {
    let pending = [...o.sampled];
    while (pending.length > 0) {
      const still: string[] = [];
      let i = 0;
      const worker = async () => {
        while (i < pending.length) {
          const id = pending[i++];
          const a = await get(`${base}/events/${encodeURIComponent(id)}`);
          if (!a) {
            still.push(id);
          } else if (a.status === 200) {
            const body = JSON.parse(a.body) as {
              status?: string;
              deadLetter?: { reason?: string; reasonCode?: string };
            };
            if (body.status === 'stored') result.arrived++;
            else
              result.deadLettered.push({
                messageId: id,
                reason: `${body.deadLetter?.reasonCode ?? ''}: ${body.deadLetter?.reason ?? ''}`,
              });
          } else if (a.status === 404) {
            const reason = (JSON.parse(a.body) as { reason?: string }).reason;
            if (reason === 'unknown_or_not_yet_written' || reason === undefined) still.push(id);
            else throw new Fatal(`GET ${base}/events/${id}: 404 ${errorMessage(a)}`);
          } else {
            throw new Fatal(`GET ${base}/events/${id}: ${a.status} ${errorMessage(a)}`);
          }
        }
      };
      await Promise.all(
        Array.from({ length: Math.min(o.concurrency ?? 8, pending.length) }, worker),
      );
      pending = still;
      if (pending.length === 0 || Date.now() > deadline) break;
      await sleep(1000);
    }
    result.missing = pending;

    // The count of this run's events: poll until it reaches the acknowledged number (or time is up).
    for (let poll = 0; ; poll++) {
      // A different `to` each time (by a millisecond) so the stats cache (QUERY_CACHE_TTL_MS) cannot answer.
      const to = new Date(o.to.getTime() + poll);
      const q = new URLSearchParams({
        from: o.from.toISOString(),
        to: to.toISOString(),
        interval: 'hour',
        'context.loadtest.run': o.runId,
      });
      const a = await get(`${base}/stats/counts?${q.toString()}`);
      if (a && a.status !== 200)
        throw new Fatal(`GET ${base}/stats/counts: ${a.status} ${errorMessage(a)}`);
      if (a)
        result.counts.counted = (
          JSON.parse(a.body) as { buckets: { count: number }[] }
        ).buckets.reduce((s, b) => s + b.count, 0);
      result.counts.ok = result.counts.counted !== null && result.counts.counted >= o.ackedTotal;
      if (result.counts.ok || Date.now() > deadline) break;
      await sleep(1000);
    }
  } catch (e) {
    if (!(e instanceof Fatal)) throw e;
    result.error = e.message;
  }

  const receipts = result.checked ? result.arrived / result.checked : 1;
  const counted = o.ackedTotal ? Math.min(1, (result.counts.counted ?? 0) / o.ackedTotal) : 1;
  result.verified = result.error ? 0 : Math.min(receipts, counted);
  result.waitedS = (Date.now() - started) / 1000;
  return result;
}
