import { Histogram } from './histogram';

function exact(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)];
}

describe('Histogram', () => {
  it('is all zeros when empty', () => {
    expect(new Histogram().summary()).toEqual({
      count: 0,
      min: 0,
      mean: 0,
      p50: 0,
      p90: 0,
      p99: 0,
      p999: 0,
      max: 0,
    });
  });

  it('gives percentiles within 1/64 of the exact ones, over six orders of magnitude', () => {
    const h = new Histogram();
    const values: number[] = [];
    let seed = 7;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 48271) % 2147483647;
      const v = 0.01 * Math.pow(10, (seed / 2147483647) * 6); // 10 µs .. 10 s
      values.push(v);
      h.record(v);
    }
    for (const q of [0.5, 0.9, 0.99, 0.999]) {
      const want = exact(values, q);
      const got = h.percentile(q);
      expect(got).toBeGreaterThanOrEqual(want * (1 - 1e-9));
      expect(got).toBeLessThanOrEqual(want * (1 + 1 / 64) + 0.001);
    }
    expect(h.count).toBe(20_000);
    expect(h.max).toBe(Math.max(...values));
    expect(h.percentile(1)).toBe(h.max);
  });

  it('finds a stall in the tail: one slow request in a hundred is the p99', () => {
    const h = new Histogram();
    for (let i = 0; i < 99; i++) h.record(5);
    h.record(3000);
    expect(h.percentile(0.5)).toBeCloseTo(5, 0);
    expect(h.percentile(0.99)).toBeCloseTo(5, 0);
    expect(h.percentile(0.995)).toBe(3000);
    expect(h.summary().max).toBe(3000);
  });

  it('merges', () => {
    const a = new Histogram();
    const b = new Histogram();
    a.record(1);
    b.record(100);
    a.merge(b);
    expect(a.summary()).toMatchObject({ count: 2, min: 1, max: 100 });
    expect(a.percentile(1)).toBe(100);
  });

  it('records negative values as 0 and keeps exact powers of two in their bucket', () => {
    const h = new Histogram();
    h.record(-3);
    expect(h.min).toBe(0);
    for (const ms of [0.128, 0.256, 1.024, 65.536]) {
      const one = new Histogram();
      one.record(ms);
      expect(one.percentile(0.5)).toBe(ms);
    }
  });
});
