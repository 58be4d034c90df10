import { Check, Profile } from './profiles';
import { RunResult } from './runner';
import { VerifyResult } from './verify';

/** Exit codes: CI gates a deploy on them. */
export const EXIT = { passed: 0, thresholdMissed: 1, usage: 2, couldNotRun: 3 } as const;

/** The JSON file (`--out`); docs/loadtest.md describes every field. */
export interface Report {
  schemaVersion: 1;
  runId: string;
  target: string;
  profile: Pick<Profile, 'name' | 'stages' | 'thresholds' | 'verifySample' | 'verifyTimeoutS'>;
  startedAt: string;
  endedAt: string;
  scheduledS: number;
  elapsedS: number;
  rate: { targetRps: number; achievedRps: number };
  requests: RunResult['requests'];
  statuses: RunResult['statuses'];
  retries: RunResult['retries'];
  latencyMs: RunResult['latencyMs'];
  events: RunResult['events'] & { acknowledged: number };
  verification:
    (Omit<VerifyResult, 'missing'> & { missing: string[]; missingTotal: number }) | null;
  checks: Check[];
  errorSamples: RunResult['errorSamples'];
  aborted: string | null;
  passed: boolean;
  exitCode: number;
}

const MAX_LISTED = 1000;
const r2 = (x: number) => Math.round(x * 100) / 100;

export function buildReport(
  runId: string,
  target: URL,
  profile: Profile,
  run: RunResult,
  verification: VerifyResult | null,
  checks: Check[],
): Report {
  const aborted = run.aborted ?? verification?.error ?? null;
  const passed = aborted === null && checks.every((c) => c.ok);
  const safeTarget = new URL(target.href);
  safeTarget.username = '';
  safeTarget.password = '';
  return {
    schemaVersion: 1,
    runId,
    target: safeTarget.href,
    profile: {
      name: profile.name,
      stages: profile.stages,
      thresholds: profile.thresholds,
      verifySample: profile.verifySample,
      verifyTimeoutS: profile.verifyTimeoutS,
    },
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    scheduledS: r2(run.scheduledS),
    elapsedS: r2(run.elapsedS),
    rate: { targetRps: r2(run.targetRps), achievedRps: r2(run.achievedRps) },
    requests: run.requests,
    statuses: run.statuses,
    retries: run.retries,
    latencyMs: run.latencyMs,
    events: { ...run.events, acknowledged: run.ackedTotal },
    verification: verification && {
      ...verification,
      missing: verification.missing.slice(0, MAX_LISTED),
      missingTotal: verification.missing.length,
      waitedS: r2(verification.waitedS),
    },
    checks,
    errorSamples: run.errorSamples,
    aborted,
    passed,
    exitCode: aborted !== null ? EXIT.couldNotRun : passed ? EXIT.passed : EXIT.thresholdMissed,
  };
}

const pad = (s: string, n: number) => s.padEnd(n);

/** The summary printed to stdout. */
export function renderSummary(r: Report): string {
  const l = r.latencyMs;
  const q = r.requests;
  const lines = [
    `Sluice load test ${r.runId}: profile ${r.profile.name} against ${r.target}`,
    `  ${r.startedAt} .. ${r.endedAt} (${r.scheduledS} s scheduled, ${r.elapsedS} s to the last answer)`,
    '',
    `rate       target ${r.rate.targetRps} req/s, achieved ${r.rate.achievedRps} req/s`,
    `requests   ${q.scheduled} scheduled, ${q.sent} sent, ${q.missed} missed sends (in-flight limit), ${q.answered} answered: ${q.ok} ok, ${q.errors} errors (${q.timeouts} timeouts, ${q.connectionErrors} connection errors)`,
    `statuses   ${
      Object.entries(r.statuses)
        .sort()
        .map(([s, n]) => `${s}: ${n}`)
        .join(', ') || 'none'
    }`,
    `retries    ${r.retries.total} after 429/503 (429: ${r.retries.on429}, 503: ${r.retries.on503}) on ${r.retries.requestsRetried} requests, ${r2(r.retries.waitedMs / 1000)} s waited per Retry-After, ${r.retries.gaveUp} gave up`,
    `latency    from the intended send time, ms: p50 ${l.p50}  p90 ${l.p90}  p99 ${l.p99}  p99.9 ${l.p999}  max ${l.max}  (mean ${l.mean}, n ${l.count})`,
    `events     ${r.events.sent} sent, ${r.events.accepted} accepted, ${r.events.rejected} rejected, ${r.events.suppressed} suppressed, ${r.events.dropped} dropped; ${r.events.acknowledged} acknowledged`,
  ];
  const v = r.verification;
  if (v) {
    lines.push(
      `verified   ${v.arrived}/${v.checked} sampled receipts stored (${r2(v.verified * 100)} %), ${v.deadLettered.length} dead-lettered, ${v.missingTotal} missing; this run's count ${v.counts.counted ?? 'unknown'} of ${v.counts.acknowledged} acknowledged; waited ${v.waitedS} s`,
    );
    for (const d of v.deadLettered.slice(0, 10))
      lines.push(`  dead-lettered ${d.messageId}: ${d.reason}`);
    if (v.missingTotal > 0)
      lines.push(
        `  missing: ${v.missing.slice(0, 20).join(' ')}${v.missingTotal > 20 ? ` … (${v.missingTotal - 20} more in the JSON output)` : ''}`,
      );
  } else {
    lines.push('verified   skipped (no --read-key)');
  }
  if (r.errorSamples.length) {
    lines.push('', 'errors (first answers):');
    for (const e of r.errorSamples) lines.push(`  ${e.status} ${e.path}: ${e.message}`);
  }
  lines.push('', 'thresholds');
  for (const c of r.checks)
    lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${pad(c.name, 16)} ${pad(c.actual, 14)} (${c.limit})`);
  if (r.aborted) lines.push('', `ABORTED: ${r.aborted}`);
  lines.push(
    '',
    r.passed
      ? 'PASSED'
      : r.aborted
        ? `FAILED: the run could not be completed (exit ${r.exitCode})`
        : `FAILED: ${r.checks
            .filter((c) => !c.ok)
            .map((c) => c.name)
            .join(', ')} (exit ${r.exitCode})`,
  );
  return lines.join('\n');
}
