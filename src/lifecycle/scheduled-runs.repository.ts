import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface ScheduledRun {
  name: string;
  interval_ms: string;
  runs: string;
  runner: string | null;
  lease_until: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  succeeded_at: Date | null;
  duration_ms: number | null;
  outcome: 'ok' | 'failed' | null;
  result: Record<string, unknown> | null;
  last_error: string | null;
}

/**
 * Scheduled jobs across all workers: a run is claimed by one UPDATE that only one worker can win
 * per interval (the row lock serialises them; the loser's re-check finds the lease taken), and
 * held by a lease that another worker takes over if the holder dies.
 */
@Injectable()
export class ScheduledRunsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Claims a run of `name` if it is due: no live lease, no success within the interval, and no
   * failure within `retryMs`. `force` skips the interval (an operator's run now), never the lease.
   * Returns the run's number, or null when another worker holds it or it is not due.
   */
  async claim(name: string, opts: { intervalMs: number; leaseMs: number; retryMs: number; runner: string; force?: boolean }): Promise<number | null> {
    await this.db.query(
      `INSERT INTO scheduled_runs (name, interval_ms) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET interval_ms = EXCLUDED.interval_ms WHERE scheduled_runs.interval_ms <> EXCLUDED.interval_ms`,
      [name, opts.intervalMs],
    );
    const [rows] = (await this.db.query(
      `UPDATE scheduled_runs
          SET runner = $2, lease_until = now() + $3 * interval '1 millisecond', started_at = now(), runs = runs + 1
        WHERE name = $1
          AND (lease_until IS NULL OR lease_until < now())
          AND ($5::boolean OR (
                (succeeded_at IS NULL OR succeeded_at <= now() - interval_ms * interval '1 millisecond')
            AND (outcome IS DISTINCT FROM 'failed' OR finished_at <= now() - $4 * interval '1 millisecond')))
        RETURNING runs`,
      [name, opts.runner, opts.leaseMs, opts.retryMs, opts.force ?? false],
    )) as [{ runs: string }[], number];
    return rows[0] ? Number(rows[0].runs) : null;
  }

  /** Extends the lease; false when this runner no longer holds it. */
  async heartbeat(name: string, runner: string, leaseMs: number): Promise<boolean> {
    const [, n] = (await this.db.query(
      `UPDATE scheduled_runs SET lease_until = now() + $3 * interval '1 millisecond' WHERE name = $1 AND runner = $2 AND lease_until IS NOT NULL`,
      [name, runner, leaseMs],
    )) as [unknown, number];
    return n > 0;
  }

  async finish(name: string, runner: string, r: { ok: boolean; durationMs: number; result: Record<string, unknown> | null; error: string | null }): Promise<void> {
    await this.db.query(
      `UPDATE scheduled_runs
          SET lease_until = NULL, finished_at = now(), outcome = $3, duration_ms = $4,
              succeeded_at = CASE WHEN $3 = 'ok' THEN now() ELSE succeeded_at END,
              result = CASE WHEN $3 = 'ok' THEN $5::jsonb ELSE result END, last_error = $6
        WHERE name = $1 AND runner = $2`,
      [name, runner, r.ok ? 'ok' : 'failed', Math.round(r.durationMs), r.result === null ? null : JSON.stringify(r.result), r.error],
    );
  }

  list(): Promise<ScheduledRun[]> {
    return this.db.query(`SELECT * FROM scheduled_runs ORDER BY name`);
  }
}
