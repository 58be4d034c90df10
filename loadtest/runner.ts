import { performance } from 'node:perf_hooks';
import {
  Answer,
  basicAuth,
  errorMessage,
  HttpClient,
  Outcome,
  RetryPolicy,
  sendWithRetry,
} from './client';
import { Histogram, LatencySummary } from './histogram';
import { intendedTimesMs, Stage, totalDurationS, totalRequests } from './schedule';
import { Request, Traffic } from './traffic';

/**
 * The open-loop run: request k is due at its intended time from the schedule, whatever happened
 * to the requests before it. Latency is measured from that intended time to the final answer
 * (retries included), so a stalled target or a generator that fell behind shows in the figures
 * instead of quietly delaying the next sends (coordinated omission). At most `maxInFlight`
 * requests are outstanding; a request due while all are busy is not sent later but counted as a
 * missed send.
 */
export interface RunOptions {
  stages: Stage[];
  maxInFlight: number;
  writeKey: string;
  retry: RetryPolicy;
  /** Share of acknowledged events kept for verification. */
  sample: number;
  onProgress?: (p: Progress) => void;
  progressEveryMs?: number;
}

export interface Progress {
  elapsedS: number;
  sent: number;
  answered: number;
  missed: number;
  inFlight: number;
  p99Ms: number;
}

export interface RunResult {
  startedAt: string;
  endedAt: string;
  /** The schedule's length and the time from start to the last answer (s). */
  scheduledS: number;
  elapsedS: number;
  targetRps: number;
  achievedRps: number;
  requests: {
    scheduled: number;
    sent: number;
    missed: number;
    answered: number;
    ok: number;
    errors: number;
    timeouts: number;
    connectionErrors: number;
  };
  /** Final status of each answered request ("timeout" and "connection" for transport errors). */
  statuses: Record<string, number>;
  retries: {
    requestsRetried: number;
    total: number;
    on429: number;
    on503: number;
    waitedMs: number;
    gaveUp: number;
  };
  latencyMs: LatencySummary;
  events: { sent: number; accepted: number; rejected: number; suppressed: number; dropped: number };
  /** A few error answers, to read the reason. */
  errorSamples: { status: string; path: string; message: string }[];
  /** Set when the run was stopped early: why. */
  aborted?: string;
  /** The acknowledged messageIds kept for verification (a sample of them). */
  sampledAcked: string[];
  /** Acknowledged events in all (sampled or not); requests whose suppressed/dropped events cannot be told apart are not counted. */
  ackedTotal: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const ERROR_SAMPLES = 5;
/** Answers that end the run at once when nothing has succeeded yet: the key or the URL is wrong. */
const FATAL = new Set([401, 403, 404]);

export async function run(client: HttpClient, traffic: Traffic, o: RunOptions): Promise<RunResult> {
  const hist = new Histogram();
  const r: RunResult = {
    startedAt: new Date().toISOString(),
    endedAt: '',
    scheduledS: totalDurationS(o.stages),
    elapsedS: 0,
    targetRps: totalRequests(o.stages) / Math.max(totalDurationS(o.stages), 1e-9),
    achievedRps: 0,
    requests: {
      scheduled: totalRequests(o.stages),
      sent: 0,
      missed: 0,
      answered: 0,
      ok: 0,
      errors: 0,
      timeouts: 0,
      connectionErrors: 0,
    },
    statuses: {},
    retries: { requestsRetried: 0, total: 0, on429: 0, on503: 0, waitedMs: 0, gaveUp: 0 },
    latencyMs: hist.summary(),
    events: { sent: 0, accepted: 0, rejected: 0, suppressed: 0, dropped: 0 },
    errorSamples: [],
    sampledAcked: [],
    ackedTotal: 0,
  };
  const auth = basicAuth(o.writeKey);
  const start = performance.now();
  let lastAnswer = start;
  let inFlight = 0;
  let idle: (() => void) | null = null;

  const settle = (req: Request, outcome: Outcome, dueAt: number) => {
    lastAnswer = performance.now();
    hist.record(lastAnswer - dueAt);
    r.requests.answered++;
    if (outcome.retries > 0) r.retries.requestsRetried++;
    r.retries.total += outcome.retries;
    r.retries.waitedMs += outcome.waitedMs;
    for (const s of outcome.retriedOn)
      if (s === 429) r.retries.on429++;
      else r.retries.on503++;
    const a = outcome.answer;
    const status = a ? String(a.status) : outcome.error!.kind;
    r.statuses[status] = (r.statuses[status] ?? 0) + 1;
    if (a && a.status >= 200 && a.status < 300) {
      r.requests.ok++;
      acknowledge(req, a);
      return;
    }
    r.requests.errors++;
    if (!a) {
      if (outcome.error!.kind === 'timeout') r.requests.timeouts++;
      else r.requests.connectionErrors++;
    } else if ((a.status === 429 || a.status === 503) && outcome.retries > 0) r.retries.gaveUp++;
    if (r.errorSamples.length < ERROR_SAMPLES)
      r.errorSamples.push({
        status,
        path: req.path,
        message: a ? errorMessage(a) : outcome.error!.message,
      });
    if (r.requests.ok === 0 && !r.aborted) {
      if (a && FATAL.has(a.status))
        r.aborted = `${req.path} answered ${a.status}: ${errorMessage(a)}${a.status === 401 ? ' (check --write-key)' : a.status === 404 ? ' (check --url)' : ''}`;
      else if (!a && outcome.error!.kind === 'connection' && r.requests.connectionErrors >= 3)
        r.aborted = `cannot connect to the target: ${outcome.error!.message} (check --url)`;
    }
  };

  const acknowledge = (req: Request, a: Answer) => {
    let body: {
      accepted?: number;
      rejected?: { index?: number }[];
      suppressed?: number;
      dropped?: number;
    } = {};
    try {
      body = JSON.parse(a.body) as typeof body;
    } catch {
      // a 2xx without JSON: count the events as accepted, as an SDK would
    }
    const rejected = new Set((body.rejected ?? []).map((x) => x.index));
    const suppressed = body.suppressed ?? 0;
    const dropped = body.dropped ?? 0;
    r.events.rejected += rejected.size;
    r.events.suppressed += suppressed;
    r.events.dropped += dropped;
    r.events.accepted += body.accepted ?? req.messageIds.length - rejected.size;
    // Which of a request's events were suppressed or dropped is not said: verify none of that request's.
    if (suppressed + dropped > 0) return;
    req.messageIds.forEach((id, i) => {
      if (rejected.has(i)) return;
      r.ackedTotal++;
      if (o.sample >= 1 || Math.random() < o.sample) r.sampledAcked.push(id);
    });
  };

  const launch = (k: number, dueAt: number) => {
    const req = traffic.request(k);
    r.requests.sent++;
    r.events.sent += req.messageIds.length;
    inFlight++;
    const headers: Record<string, string> = {
      Authorization: auth,
      'Content-Type': 'application/json',
      'User-Agent': 'sluice-loadtest',
    };
    if (req.gzip) headers['Content-Encoding'] = 'gzip';
    void sendWithRetry(client, { method: 'POST', path: req.path, headers, body: req.body }, o.retry)
      .then((outcome) => settle(req, outcome, dueAt))
      .finally(() => {
        inFlight--;
        if (inFlight === 0 && idle) idle();
      });
  };

  let nextProgress = start + (o.progressEveryMs ?? 5000);
  const progress = () => {
    const now = performance.now();
    if (!o.onProgress || now < nextProgress) return;
    nextProgress += o.progressEveryMs ?? 5000;
    o.onProgress({
      elapsedS: (now - start) / 1000,
      sent: r.requests.sent,
      answered: r.requests.answered,
      missed: r.requests.missed,
      inFlight,
      p99Ms: hist.percentile(0.99),
    });
  };

  let k = 0;
  for (const offset of intendedTimesMs(o.stages)) {
    if (r.aborted) break;
    const dueAt = start + offset;
    for (let wait = dueAt - performance.now(); wait > 0.5; wait = dueAt - performance.now()) {
      await sleep(Math.min(wait, 100));
      progress();
    }
    if (inFlight >= o.maxInFlight) r.requests.missed++;
    else launch(k, dueAt);
    k++;
    // Yield now and then so answers are read while a backlog of due sends is worked through.
    if (k % 64 === 0) await new Promise<void>((res) => setImmediate(res));
  }
  if (inFlight > 0) await new Promise<void>((res) => (idle = res));

  r.endedAt = new Date().toISOString();
  r.elapsedS = (lastAnswer - start) / 1000;
  r.achievedRps = r.requests.answered / Math.max(r.scheduledS, r.elapsedS, 1e-9);
  r.latencyMs = hist.summary();
  return r;
}
