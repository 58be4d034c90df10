import { MigrationInterface, QueryRunner } from 'typeorm';

export class Hardening1764300000000 implements MigrationInterface {
  name = 'Hardening1764300000000';

  async up(q: QueryRunner): Promise<void> {
    // A dead letter must hold whatever was refused, including text jsonb cannot (a lone
    // surrogate escape, \u0000): the original JSON text goes in `payload_text`, always; `payload`
    // keeps a sanitised jsonb copy for querying, NULL when none could be made.
    await q.query(`ALTER TABLE dead_letters ADD COLUMN payload_text text`);
    await q.query(`UPDATE dead_letters SET payload_text = payload::text`);
    await q.query(`ALTER TABLE dead_letters ALTER COLUMN payload_text SET NOT NULL`);
    await q.query(`ALTER TABLE dead_letters ALTER COLUMN payload DROP NOT NULL`);
    // A short machine-readable cause beside the human `reason`.
    await q.query(`ALTER TABLE dead_letters ADD COLUMN reason_code text NOT NULL DEFAULT 'unknown'`);
    // One dead letter per event: the failed-job sweep (or a retried dead-lettering) can run again
    // without writing a second row.
    await q.query(`
      DELETE FROM dead_letters d USING dead_letters e
       WHERE d.source_id = e.source_id AND d.message_id = e.message_id AND d.id > e.id`);
    await q.query(`CREATE UNIQUE INDEX dead_letters_event_key ON dead_letters (source_id, message_id)`);
    await q.query(`CREATE INDEX dead_letters_reason_idx ON dead_letters (reason_code, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS dead_letters_reason_idx`);
    await q.query(`DROP INDEX IF EXISTS dead_letters_event_key`);
    await q.query(`ALTER TABLE dead_letters DROP COLUMN reason_code`);
    await q.query(`DELETE FROM dead_letters WHERE payload IS NULL`);
    await q.query(`ALTER TABLE dead_letters ALTER COLUMN payload SET NOT NULL`);
    await q.query(`ALTER TABLE dead_letters DROP COLUMN payload_text`);
  }
}
