import { performance } from 'node:perf_hooks';
import { sleep } from './stack';

export interface QueryProbeResult {
  queries: number;
  errors: number;
  sampleErrors: string[];
  ms: { p50: number; p95: number; max: number };
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] * 100) / 100;
}

/**
 * One client asking the query API while ingestion runs, so the bench shows whether the two sides
 * starve each other: counts by minute over the last hour and the newest 50 events of the source
 * being ingested, alternately, `perSecond` a second until `until` settles. Each `to` is the
 * current instant, so no answer comes from the aggregate cache.
 */
export async function probeQueries(opts: { url: string; key: string; sourceId: string; perSecond: number; until: Promise<unknown> }): Promise<QueryProbeResult> {
  let done = false;
  void opts.until.finally(() => (done = true));
  const samples: number[] = [];
  const sampleErrors: string[] = [];
  let errors = 0;
  const headers = { Authorization: `Bearer ${opts.key}` };
  const gap = 1000 / opts.perSecond;
  for (let i = 0; !done; i++) {
    const started = performance.now();
    const to = new Date();
    const from = new Date(to.getTime() - 3_600_000);
    const path =
      i % 2 === 0
        ? `/v1/sources/${opts.sourceId}/stats/counts?interval=minute&from=${from.toISOString()}&to=${to.toISOString()}`
        : `/v1/sources/${opts.sourceId}/events?limit=50&to=${to.toISOString()}`;
    try {
      const res = await fetch(`${opts.url}${path}`, { headers, signal: AbortSignal.timeout(10_000) });
      const body = await res.text();
      if (res.status !== 200) {
        errors++;
        if (sampleErrors.length < 3) sampleErrors.push(`${res.status} ${body.slice(0, 200)}`);
      } else samples.push(performance.now() - started);
    } catch (err) {
      errors++;
      if (sampleErrors.length < 3) sampleErrors.push((err as Error).message);
    }
    const wait = gap - (performance.now() - started);
    if (wait > 0 && !done) await sleep(wait);
  }
  samples.sort((a, b) => a - b);
  return { queries: samples.length + errors, errors, sampleErrors, ms: { p50: quantile(samples, 0.5), p95: quantile(samples, 0.95), max: quantile(samples, 1) } };
}
