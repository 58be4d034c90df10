import type { Stage } from './schedule';

/**
 * The load profiles and their pass/fail thresholds, in one place (documented in docs/loadtest.md).
 * `--rate` and `--duration` rescale a profile; `--p99-ms`, `--max-error-rate` and
 * `--min-verified` replace one threshold.
 */
export interface Thresholds {
  /** p99 latency, from each request's intended send time to its final answer, below this (ms). */
  p99Ms: number;
  /** Share of requests that ended in an error (non-2xx after retries, timeout, connection error), at most. */
  maxErrorRate: number;
  /** Share of the sampled acknowledged events found stored, at least (checked with a read key only). */
  minVerified: number;
  /** Achieved request rate over the target rate, at least. */
  minAchievedRatio: number;
  /** Share of scheduled requests not sent because the in-flight limit was reached, at most. */
  maxMissedRate: number;
}

export interface Profile {
  name: ProfileName;
  description: string;
  stages: Stage[];
  thresholds: Thresholds;
  /** Share of acknowledged events whose receipt is checked (1 = all). */
  verifySample: number;
  /** How long verification waits for the events to arrive (s). */
  verifyTimeoutS: number;
}

export const PROFILE_NAMES = ['smoke', 'load', 'stress', 'soak'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

const hold = (rps: number, durationS: number): Stage => ({ durationS, fromRps: rps, toRps: rps });

export const PROFILES: Record<ProfileName, Profile> = {
  smoke: {
    name: 'smoke',
    description:
      'After every deploy: a few requests a second for 10 s; no errors, every event stored.',
    stages: [hold(5, 10)],
    thresholds: {
      p99Ms: 1000,
      maxErrorRate: 0,
      minVerified: 1,
      minAchievedRatio: 0.95,
      maxMissedRate: 0,
    },
    verifySample: 1,
    verifyTimeoutS: 60,
  },
  load: {
    name: 'load',
    description: 'Expected peak traffic held for 2 minutes.',
    stages: [hold(100, 120)],
    thresholds: {
      p99Ms: 500,
      maxErrorRate: 0.001,
      minVerified: 1,
      minAchievedRatio: 0.95,
      maxMissedRate: 0.001,
    },
    verifySample: 0.05,
    verifyTimeoutS: 120,
  },
  stress: {
    name: 'stress',
    description:
      'Ramps from 50 to 1,000 requests/s over 5 minutes, then holds 1 minute: where does it bend?',
    stages: [{ durationS: 300, fromRps: 50, toRps: 1000 }, hold(1000, 60)],
    thresholds: {
      p99Ms: 2000,
      maxErrorRate: 0.01,
      minVerified: 1,
      minAchievedRatio: 0.9,
      maxMissedRate: 0.01,
    },
    verifySample: 0.01,
    verifyTimeoutS: 300,
  },
  soak: {
    name: 'soak',
    description:
      'Moderate traffic for an hour: leaks, slow growth, retention and partition jobs under load.',
    stages: [hold(50, 3600)],
    thresholds: {
      p99Ms: 500,
      maxErrorRate: 0.001,
      minVerified: 1,
      minAchievedRatio: 0.95,
      maxMissedRate: 0.001,
    },
    verifySample: 0.01,
    verifyTimeoutS: 300,
  },
};

export interface ProfileOverrides {
  rate?: number;
  durationS?: number;
  thresholds?: Partial<Thresholds>;
  verifySample?: number;
  verifyTimeoutS?: number;
}

/**
 * A profile with the command line's changes: `rate` scales every stage so the peak rate is `rate`
 * (a ramp keeps its shape), `durationS` scales every stage's length in proportion.
 */
export function resolveProfile(name: ProfileName, o: ProfileOverrides = {}): Profile {
  const base = PROFILES[name];
  const peak = Math.max(...base.stages.map((s) => Math.max(s.fromRps, s.toRps)));
  const total = base.stages.reduce((t, s) => t + s.durationS, 0);
  const rateScale = o.rate !== undefined ? o.rate / peak : 1;
  const timeScale = o.durationS !== undefined ? o.durationS / total : 1;
  return {
    ...base,
    stages: base.stages.map((s) => ({
      durationS: s.durationS * timeScale,
      fromRps: s.fromRps * rateScale,
      toRps: s.toRps * rateScale,
    })),
    thresholds: { ...base.thresholds, ...stripUndefined(o.thresholds ?? {}) },
    verifySample: o.verifySample ?? base.verifySample,
    verifyTimeoutS: o.verifyTimeoutS ?? base.verifyTimeoutS,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** What a run measured, as far as the thresholds look at it. */
export interface Measured {
  p99Ms: number;
  errorRate: number;
  /** null: not verified (no read key). */
  verified: number | null;
  achievedRatio: number;
  missedRate: number;
}

export interface Check {
  name: string;
  limit: string;
  actual: string;
  ok: boolean;
}

const pct = (x: number) => `${(Math.round(x * 100000) / 1000).toString()} %`;

/** Every threshold of the profile against the measurement; a missing verification is not a failure, and is listed as skipped by the report. */
export function evaluate(t: Thresholds, m: Measured): Check[] {
  const checks: Check[] = [
    {
      name: 'p99 latency',
      limit: `< ${t.p99Ms} ms`,
      actual: `${m.p99Ms} ms`,
      ok: m.p99Ms < t.p99Ms,
    },
    {
      name: 'error rate',
      limit: `<= ${pct(t.maxErrorRate)}`,
      actual: pct(m.errorRate),
      ok: m.errorRate <= t.maxErrorRate,
    },
    {
      name: 'achieved rate',
      limit: `>= ${pct(t.minAchievedRatio)} of target`,
      actual: pct(m.achievedRatio),
      ok: m.achievedRatio >= t.minAchievedRatio,
    },
    {
      name: 'missed sends',
      limit: `<= ${pct(t.maxMissedRate)}`,
      actual: pct(m.missedRate),
      ok: m.missedRate <= t.maxMissedRate,
    },
  ];
  if (m.verified !== null)
    checks.push({
      name: 'events verified',
      limit: `>= ${pct(t.minVerified)}`,
      actual: pct(m.verified),
      ok: m.verified >= t.minVerified,
    });
  return checks;
}
