import { writeFileSync } from 'node:fs';
import { Options, parseArgs, USAGE, UsageError } from './args';
import { HttpClient } from './client';
import { evaluate, resolveProfile } from './profiles';
import { buildReport, EXIT, renderSummary } from './report';
import { run } from './runner';
import { Traffic } from './traffic';
import { verify, VerifyResult } from './verify';

/**
 * `npm run loadtest -- --url … --write-key … [--read-key … --source-id …] --profile smoke|load|stress|soak`
 * An open-loop load test of a Sluice deployment, with pass/fail thresholds for CI
 * (docs/loadtest.md). Exit 0 passed, 1 a threshold missed, 2 usage error, 3 could not run.
 */
interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const WINDOW_MARGIN_MS = 10 * 60_000; // stored timestamps are receivedAt, corrected for the client's clock

export async function main(
  argv: string[],
  fallback: { writeKey?: string; readKey?: string },
  io: Io,
): Promise<number> {
  let o: Options | null;
  try {
    o = parseArgs(argv, fallback);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`loadtest: ${e.message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (!o) {
    io.out(USAGE);
    return EXIT.passed;
  }
  const profile = resolveProfile(o.profile, o.overrides);
  const verifying = o.readKey !== undefined && o.sourceId !== undefined;
  const client = new HttpClient(o.url, { maxSockets: o.maxInFlight, timeoutMs: o.timeoutMs });
  try {
    io.err(`loadtest ${o.runId}: ${profile.name} (${profile.description}) against ${o.url.origin}`);
    const result = await run(
      client,
      new Traffic({
        runId: o.runId,
        batchShare: o.batchShare,
        batchSize: o.batchSize,
        gzip: o.gzip,
      }),
      {
        stages: profile.stages,
        maxInFlight: o.maxInFlight,
        writeKey: o.writeKey,
        retry: { maxRetries: o.maxRetries, maxRetryAfterS: o.maxRetryAfterS },
        sample: verifying ? profile.verifySample : 0,
        onProgress: (p) =>
          io.err(
            `  ${p.elapsedS.toFixed(0)} s: ${p.sent} sent, ${p.answered} answered, ${p.missed} missed, ${p.inFlight} in flight, p99 ${p.p99Ms.toFixed(1)} ms`,
          ),
      },
    );
    let verification: VerifyResult | null = null;
    if (verifying && !result.aborted) {
      io.err(
        `  verifying ${result.sampledAcked.length} of ${result.ackedTotal} acknowledged events (up to ${profile.verifyTimeoutS} s)…`,
      );
      verification = await verify(client, {
        sourceId: o.sourceId!,
        readKey: o.readKey!,
        runId: o.runId,
        sampled: result.sampledAcked,
        ackedTotal: result.ackedTotal,
        from: new Date(Date.parse(result.startedAt) - WINDOW_MARGIN_MS),
        to: new Date(Date.parse(result.endedAt) + WINDOW_MARGIN_MS),
        timeoutS: profile.verifyTimeoutS,
      });
    }
    const checks = evaluate(profile.thresholds, {
      p99Ms: result.latencyMs.p99,
      errorRate: result.requests.errors / Math.max(result.requests.answered, 1),
      verified: verification ? verification.verified : null,
      achievedRatio: result.achievedRps / Math.max(result.targetRps, 1e-9),
      missedRate: result.requests.missed / Math.max(result.requests.scheduled, 1),
    });
    const report = buildReport(o.runId, o.url, profile, result, verification, checks);
    io.out(renderSummary(report));
    if (o.out) {
      writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
      io.err(`  result written to ${o.out}`);
    }
    return report.exitCode;
  } finally {
    client.close();
  }
}

if (require.main === module) {
  // The one place the load test reads the environment: keys as secrets (SLUICE_WRITE_KEY,
  // SLUICE_READ_KEY) instead of flags a process list would show. eslint.config.mjs exempts this file.
  const fallback = { writeKey: process.env.SLUICE_WRITE_KEY, readKey: process.env.SLUICE_READ_KEY };
  main(process.argv.slice(2), fallback, {
    out: (s) => console.log(s),
    err: (s) => console.error(s),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(`loadtest: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      process.exitCode = EXIT.couldNotRun;
    },
  );
}
