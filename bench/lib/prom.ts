/** Just enough of the Prometheus text format to diff histograms and counters between scrapes. */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export type Scrape = Sample[];

export function parseMetrics(text: string): Scrape {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[3]) {
      for (const l of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    }
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

export async function scrape(baseUrl: string): Promise<Scrape> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (res.status !== 200) throw new Error(`GET ${baseUrl}/metrics answered ${res.status}`);
  return parseMetrics(await res.text());
}

type LabelFilter = (labels: Record<string, string>) => boolean;

/** Sum of a counter (or gauge) across the label sets that pass the filter. */
export function sumOf(s: Scrape, name: string, filter: LabelFilter = () => true): number {
  return s.filter((x) => x.name === name && filter(x.labels)).reduce((a, x) => a + x.value, 0);
}

export interface HistogramDelta {
  /** cumulative counts by upper bound, ascending; the last bound is +Inf */
  buckets: { le: number; count: number }[];
  count: number;
  sum: number;
}

/** after - before of a histogram, summed over label sets that pass the filter. */
export function histogramDelta(before: Scrape, after: Scrape, name: string, filter: LabelFilter = () => true): HistogramDelta {
  const byLe = new Map<number, number>();
  const add = (s: Scrape, sign: number) => {
    for (const x of s) {
      if (x.name !== `${name}_bucket` || !filter(x.labels)) continue;
      const le = x.labels.le === '+Inf' ? Infinity : Number(x.labels.le);
      byLe.set(le, (byLe.get(le) ?? 0) + sign * x.value);
    }
  };
  add(after, 1);
  add(before, -1);
  const buckets = [...byLe.entries()].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }));
  return {
    buckets,
    count: sumOf(after, `${name}_count`, filter) - sumOf(before, `${name}_count`, filter),
    sum: sumOf(after, `${name}_sum`, filter) - sumOf(before, `${name}_sum`, filter),
  };
}

/**
 * Quantile by linear interpolation inside the bucket that holds it, as PromQL's
 * histogram_quantile does; in the +Inf bucket, the highest finite bound is returned (a floor).
 */
export function histogramQuantile(h: HistogramDelta, q: number): number | null {
  const total = h.buckets.length ? h.buckets[h.buckets.length - 1].count : 0;
  if (total <= 0) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of h.buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe;
      const inBucket = b.count - prevCount;
      return inBucket <= 0 ? b.le : prevLe + (b.le - prevLe) * ((rank - prevCount) / inBucket);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}
