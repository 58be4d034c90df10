import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { AppConfig } from '../config';
import { MetricsService } from '../metrics/metrics.service';
import { RetentionReport, RetentionService } from './retention.service';
import { ScheduledRunsRepository } from './scheduled-runs.repository';

export const RETENTION_JOB = 'retention';
const LEASE_MS = 5 * 60_000;
const HEARTBEAT_MS = 30_000;
// After a failed run (a DROP that kept waiting for its lock, a database outage), try again this soon.
const RETRY_MS = 60_000;

/**
 * Runs retention once per RETENTION_INTERVAL_MS across all workers. Each worker looks every
 * half-interval (1 s to 1 min) whether a run is due and tries to claim it; the claim in
 * `scheduled_runs` lets one win. Every worker reports the job's gauges from that table, so the
 * alert sees the same last success whichever pod ran it. Started by the worker role only; the CLI
 * calls `tick(true)` for a run now.
 */
@Injectable()
export class RetentionScheduler {
  private readonly logger = new Logger(RetentionScheduler.name);
  private readonly runner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private timer?: NodeJS.Timeout;
  private running?: Promise<RetentionReport | null>;
  private stopping = false;
  private removeCollector?: () => void;
  /** Why the last claim or run here failed (null after a success). */
  lastError: string | null = null;

  constructor(
    private readonly retention: RetentionService,
    private readonly runs: ScheduledRunsRepository,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  start(): void {
    const every = Math.min(Math.max(this.config.lifecycle.retentionIntervalMs / 2, 1000), 60_000);
    void this.tick();
    this.timer = setInterval(() => void this.tick(), every).unref();
    this.removeCollector = this.metrics.onCollectScheduledJobs(async () => {
      for (const r of await this.runs.list().catch(() => [])) {
        this.metrics.scheduledJobLastSuccess.set({ task: r.name }, r.succeeded_at ? r.succeeded_at.getTime() / 1000 : 0);
        this.metrics.scheduledJobInterval.set({ task: r.name }, Number(r.interval_ms) / 1000);
        if (r.duration_ms !== null) this.metrics.scheduledJobDuration.set({ task: r.name }, r.duration_ms / 1000);
      }
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    this.removeCollector?.();
    await this.running;
  }

  /** Claims and runs a pass if one is due (or `force`); null when none ran here. */
  tick(force = false): Promise<RetentionReport | null> {
    if (this.running || this.stopping) return this.running ?? Promise.resolve(null);
    this.running = this.claimAndRun(force).finally(() => (this.running = undefined));
    return this.running;
  }

  private async claimAndRun(force: boolean): Promise<RetentionReport | null> {
    let claimed: number | null;
    try {
      claimed = await this.runs.claim(RETENTION_JOB, { intervalMs: this.config.lifecycle.retentionIntervalMs, leaseMs: LEASE_MS, retryMs: RETRY_MS, runner: this.runner, force });
    } catch (err) {
      this.lastError = `retention not claimed: ${(err as Error).message}`;
      this.logger.warn(`${this.lastError} (will retry)`);
      return null;
    }
    if (claimed === null) return null;
    let held = true;
    const heartbeat = setInterval(() => {
      void this.runs.heartbeat(RETENTION_JOB, this.runner, LEASE_MS).then((ok) => (held &&= ok), () => undefined);
    }, HEARTBEAT_MS).unref();
    const started = Date.now();
    try {
      const report = await this.retention.run(Date.now(), () => held && !this.stopping);
      await this.runs.finish(RETENTION_JOB, this.runner, { ok: true, durationMs: Date.now() - started, result: { ...report }, error: null });
      this.lastError = null;
      return report;
    } catch (err) {
      const message = (err as Error).message;
      this.lastError = `retention run ${claimed} failed: ${message}`;
      this.logger.warn(`retention run ${claimed} failed (tried again within ${RETRY_MS / 1000} s): ${message}`);
      await this.runs.finish(RETENTION_JOB, this.runner, { ok: false, durationMs: Date.now() - started, result: null, error: message.slice(0, 2000) }).catch(() => undefined);
      return null;
    } finally {
      clearInterval(heartbeat);
    }
  }
}
