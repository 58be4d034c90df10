/**
 * A log-linear latency histogram (the HdrHistogram layout): each power of two of microseconds is
 * split into 64 equal buckets, so a percentile is off by at most 1/64 (1.6 %) of its value,
 * in constant memory however long a soak runs. Count, sum, min and max are kept exactly.
 */
const SUB_BITS = 7;
const SUB = 1 << SUB_BITS;
const MAX_EXPONENT = 40; // 2^40 µs is 12 days: no latency of a run is longer

export class Histogram {
  private readonly counts = new Float64Array((MAX_EXPONENT + 1) * SUB);
  count = 0;
  sum = 0;
  min = Infinity;
  max = 0;

  /** Records a latency in milliseconds (negative values are recorded as 0). */
  record(ms: number): void {
    const v = Math.max(0, ms);
    this.counts[bucketOf(v * 1000)]++;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** The latency (ms) that a fraction q (0..1) of the recordings are at or below: the upper edge of its bucket, never above max. */
  percentile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(upperEdgeUs(i) / 1000, this.max);
    }
    return this.max;
  }

  mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  merge(other: Histogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i];
    this.count += other.count;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }

  summary(): LatencySummary {
    const r = (x: number) => Math.round(x * 1000) / 1000;
    return {
      count: this.count,
      min: this.count ? r(this.min) : 0,
      mean: r(this.mean()),
      p50: r(this.percentile(0.5)),
      p90: r(this.percentile(0.9)),
      p99: r(this.percentile(0.99)),
      p999: r(this.percentile(0.999)),
      max: r(this.max),
    };
  }
}

/** Latency figures in milliseconds. */
export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/**
 * Below SUB µs a bucket per microsecond; above, exponent e (v / 2^e in [SUB/2, SUB)) and the
 * integer part of v / 2^e: bucket e*SUB + m covers [m*2^e, (m+1)*2^e), at most 1/(SUB/2) of v wide.
 */
function bucketOf(us: number): number {
  const v = Math.floor(us);
  if (v < SUB) return v;
  let e = Math.floor(Math.log2(v)) - SUB_BITS + 1;
  let m = Math.floor(v / 2 ** e);
  if (m >= SUB) m = Math.floor(v / 2 ** ++e); // log2 rounding at an exact power of two
  if (m < SUB / 2) m = Math.floor(v / 2 ** --e);
  if (e > MAX_EXPONENT) return (MAX_EXPONENT + 1) * SUB - 1;
  return e * SUB + m;
}

function upperEdgeUs(bucket: number): number {
  return ((bucket % SUB) + 1) * 2 ** Math.floor(bucket / SUB);
}
