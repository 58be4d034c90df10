import { intendedTimesMs, rateAt, Stage, totalDurationS, totalRequests } from './schedule';

const times = (stages: Stage[]) => [...intendedTimesMs(stages)];

describe('schedule', () => {
  it('paces a constant rate at fixed intervals from 0', () => {
    const t = times([{ durationS: 2, fromRps: 5, toRps: 5 }]);
    expect(t).toHaveLength(10);
    t.forEach((ms, k) => expect(ms).toBeCloseTo(k * 200, 6));
  });

  it('sends only what is due before the end (a fractional total rounds up to the last started slot)', () => {
    expect(totalRequests([{ durationS: 1, fromRps: 2.5, toRps: 2.5 }])).toBe(3);
    expect(times([{ durationS: 1, fromRps: 2.5, toRps: 2.5 }])).toEqual([0, 400, 800]);
    expect(times([{ durationS: 1, fromRps: 0, toRps: 0 }])).toEqual([]);
  });

  it('ramps linearly: the count due by t is the integral of the rate, intervals shrink', () => {
    const stages = [{ durationS: 10, fromRps: 10, toRps: 100 }];
    const t = times(stages);
    expect(t).toHaveLength(550); // (10 + 100) / 2 * 10
    for (let k = 1; k < t.length; k++) expect(t[k]).toBeGreaterThan(t[k - 1]);
    // N(t) = 10 t + 4.5 t²: 5 s in, 50 + 112.5 = 162.5 requests were due
    expect(t.filter((ms) => ms < 5000)).toHaveLength(163);
    expect(t[1] - t[0]).toBeCloseTo(1000 / 10, -1);
    expect(t[t.length - 1] - t[t.length - 2]).toBeCloseTo(1000 / 100, 0);
    expect(t[t.length - 1]).toBeLessThan(10_000);
  });

  it('ramps down as well, and chains stages in time', () => {
    const stages = [
      { durationS: 2, fromRps: 10, toRps: 0 },
      { durationS: 1, fromRps: 4, toRps: 4 },
    ];
    const t = times(stages);
    expect(totalDurationS(stages)).toBe(3);
    expect(t).toHaveLength(14);
    expect(t.slice(0, 10).every((ms) => ms < 2000)).toBe(true);
    expect(t.slice(10)).toEqual(
      [2000, 2250, 2500, 2750].map((x) => expect.closeTo(x, 6) as unknown as number),
    );
  });

  it('rateAt follows the stages', () => {
    const stages = [
      { durationS: 10, fromRps: 0, toRps: 100 },
      { durationS: 5, fromRps: 100, toRps: 100 },
    ];
    expect(rateAt(stages, 0)).toBe(0);
    expect(rateAt(stages, 5)).toBe(50);
    expect(rateAt(stages, 12)).toBe(100);
    expect(rateAt(stages, 99)).toBe(100);
  });
});
