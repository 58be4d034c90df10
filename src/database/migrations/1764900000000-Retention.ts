import { MigrationInterface, QueryRunner } from 'typeorm';

export class Retention1764900000000 implements MigrationInterface {
  name = 'Retention1764900000000';

  async up(q: QueryRunner): Promise<void> {
    // A source may keep its events for fewer days than RETENTION_DAYS (never more): NULL, the global one.
    await q.query(`ALTER TABLE sources ADD COLUMN retention_days integer CHECK (retention_days BETWEEN 1 AND 36500)`);
    // One row per scheduled job: a worker claims a run by updating it (one winner per interval
    // across all workers), and every worker reads it back for the gauges.
    await q.query(`
      CREATE TABLE scheduled_runs (
        name text PRIMARY KEY,
        interval_ms bigint NOT NULL,
        runs bigint NOT NULL DEFAULT 0,
        runner text,
        lease_until timestamptz,
        started_at timestamptz,
        finished_at timestamptz,
        succeeded_at timestamptz,
        duration_ms integer,
        outcome text CHECK (outcome IN ('ok', 'failed')),
        result jsonb,
        last_error text
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS scheduled_runs`);
    await q.query(`ALTER TABLE sources DROP COLUMN IF EXISTS retention_days`);
  }
}
