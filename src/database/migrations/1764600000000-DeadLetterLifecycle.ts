import { MigrationInterface, QueryRunner } from 'typeorm';

export class DeadLetterLifecycle1764600000000 implements MigrationInterface {
  name = 'DeadLetterLifecycle1764600000000';

  async up(q: QueryRunner): Promise<void> {
    // pending: waiting for an operator; replayed: sent back through ingestion (if it fails again
    // the worker reopens it as pending); discarded: an operator decided it is not to be stored.
    await q.query(`ALTER TABLE dead_letters ADD COLUMN status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'replayed', 'discarded'))`);
    await q.query(`ALTER TABLE dead_letters ADD COLUMN updated_at timestamptz`);
    await q.query(`ALTER TABLE dead_letters ADD COLUMN fixed_at timestamptz`);
    await q.query(`CREATE INDEX dead_letters_status_idx ON dead_letters (status, id)`);
    // Replays of many dead letters run in the background; their progress is kept here.
    await q.query(`
      CREATE TABLE dead_letter_replays (
        id bigserial PRIMARY KEY,
        filter jsonb NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
        matched bigint NOT NULL DEFAULT 0,
        replayed bigint NOT NULL DEFAULT 0,
        rejected bigint NOT NULL DEFAULT 0,
        last_id bigint NOT NULL DEFAULT 0,
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS dead_letter_replays`);
    await q.query(`DROP INDEX IF EXISTS dead_letters_status_idx`);
    await q.query(`ALTER TABLE dead_letters DROP COLUMN fixed_at, DROP COLUMN updated_at, DROP COLUMN status`);
  }
}
