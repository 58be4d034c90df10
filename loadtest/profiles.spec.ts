import { evaluate, PROFILE_NAMES, PROFILES, resolveProfile } from './profiles';
import { totalRequests } from './schedule';

describe('profiles', () => {
  it('defines each profile under its own name, with thresholds', () => {
    for (const name of PROFILE_NAMES) {
      expect(PROFILES[name].name).toBe(name);
      expect(totalRequests(PROFILES[name].stages)).toBeGreaterThan(0);
      expect(PROFILES[name].thresholds.p99Ms).toBeGreaterThan(0);
    }
    expect(PROFILES.smoke.thresholds).toMatchObject({ maxErrorRate: 0, minVerified: 1 });
    expect(PROFILES.smoke.verifySample).toBe(1);
    const ramp = PROFILES.stress.stages[0];
    expect(ramp.toRps).toBeGreaterThan(ramp.fromRps);
  });

  it('scales a ramp to the peak --rate and the total --duration, keeping its shape', () => {
    const p = resolveProfile('stress', { rate: 100, durationS: 36 });
    expect(p.stages).toEqual([
      { durationS: 30, fromRps: 5, toRps: 100 },
      { durationS: 6, fromRps: 100, toRps: 100 },
    ]);
    expect(PROFILES.stress.stages[0].toRps).toBe(1000); // the definition is untouched
  });

  it('replaces only the thresholds given', () => {
    const p = resolveProfile('smoke', { thresholds: { p99Ms: 0.001, maxErrorRate: undefined } });
    expect(p.thresholds).toEqual({ ...PROFILES.smoke.thresholds, p99Ms: 0.001 });
  });

  describe('evaluate', () => {
    const t = PROFILES.smoke.thresholds;
    const good = { p99Ms: 50, errorRate: 0, verified: 1, achievedRatio: 1, missedRate: 0 };

    it('passes a run within every threshold', () => {
      const checks = evaluate(t, good);
      expect(checks.map((c) => c.name)).toEqual([
        'p99 latency',
        'error rate',
        'achieved rate',
        'missed sends',
        'events verified',
      ]);
      expect(checks.every((c) => c.ok)).toBe(true);
    });

    it.each([
      ['p99 latency', { p99Ms: 1000 }],
      ['error rate', { errorRate: 0.0001 }],
      ['achieved rate', { achievedRatio: 0.9 }],
      ['missed sends', { missedRate: 0.01 }],
      ['events verified', { verified: 0.999 }],
    ])('fails %s alone', (name, change) => {
      const failed = evaluate(t, { ...good, ...change }).filter((c) => !c.ok);
      expect(failed.map((c) => c.name)).toEqual([name]);
    });

    it('leaves verification out without a read key', () => {
      expect(evaluate(t, { ...good, verified: null }).map((c) => c.name)).not.toContain(
        'events verified',
      );
    });
  });
});
