/**
 * The open-loop schedule: when each request is meant to be sent, fixed before the run starts and
 * independent of how fast the target answers. A run is a list of stages, each with a rate that
 * goes linearly from `fromRps` to `toRps` over `durationS` (constant when they are equal), so a
 * stress profile ramps and a load profile holds.
 *
 * Request k (0-based) is due when the cumulative number of requests reaches k: within a stage
 * that starts at t0 with rate r0 and slope a = (r1 - r0) / d, N(t) = r0 t + a t² / 2, solved for t.
 */
export interface Stage {
  durationS: number;
  fromRps: number;
  toRps: number;
}

/** Requests a stage holds (fractional: the schedule carries the remainder into the next stage). */
export function stageRequests(s: Stage): number {
  return ((s.fromRps + s.toRps) / 2) * s.durationS;
}

export function totalDurationS(stages: Stage[]): number {
  return stages.reduce((t, s) => t + s.durationS, 0);
}

/** How many requests the whole schedule sends: those due strictly before its end. */
export function totalRequests(stages: Stage[]): number {
  const n = stages.reduce((t, s) => t + stageRequests(s), 0);
  return Math.max(0, Math.ceil(n - 1e-9));
}

/** Seconds into stage s at which `n` requests (n ≤ stageRequests(s)) have been due. */
function timeWithin(s: Stage, n: number): number {
  const a = (s.toRps - s.fromRps) / s.durationS;
  if (Math.abs(a) < 1e-12) return s.fromRps > 0 ? n / s.fromRps : 0;
  // a t² / 2 + r0 t - n = 0, the root in [0, d]
  const disc = s.fromRps * s.fromRps + 2 * a * n;
  return (-s.fromRps + Math.sqrt(Math.max(0, disc))) / a;
}

/**
 * The intended send times, in milliseconds from the start, in order: request k at the time the
 * cumulative rate reaches k (so the first is sent at 0). Lazy, so a soak of millions of requests
 * costs no memory.
 */
export function* intendedTimesMs(stages: Stage[]): Generator<number> {
  let k = 0;
  let before = 0; // requests due before the current stage
  let t0 = 0;
  const total = totalRequests(stages);
  for (const s of stages) {
    const inStage = stageRequests(s);
    while (k < total && k - before < inStage - 1e-9) {
      yield (t0 + timeWithin(s, k - before)) * 1000;
      k++;
    }
    before += inStage;
    t0 += s.durationS;
  }
}

/** The rate the schedule asks for at t seconds (for the report of a ramp). */
export function rateAt(stages: Stage[], tS: number): number {
  let t0 = 0;
  for (const s of stages) {
    if (tS < t0 + s.durationS) return s.fromRps + ((s.toRps - s.fromRps) * (tS - t0)) / s.durationS;
    t0 += s.durationS;
  }
  return stages.length ? stages[stages.length - 1].toRps : 0;
}
