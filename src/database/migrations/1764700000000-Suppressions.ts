import { MigrationInterface, QueryRunner } from 'typeorm';

export class Suppressions1764700000000 implements MigrationInterface {
  name = 'Suppressions1764700000000';

  async up(q: QueryRunner): Promise<void> {
    // A person whose future events ingestion drops: by userId or anonymousId, in some sources or
    // (source_ids NULL) in all. Lifted, not deleted, so the history stays.
    await q.query(`
      CREATE TABLE suppressions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id text,
        anonymous_id text,
        source_ids uuid[],
        created_at timestamptz NOT NULL DEFAULT now(),
        lifted_at timestamptz,
        CHECK ((user_id IS NULL) <> (anonymous_id IS NULL))
      )`);
    await q.query(`CREATE INDEX suppressions_active_idx ON suppressions (created_at) WHERE lifted_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS suppressions`);
  }
}
