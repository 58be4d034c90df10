import { MigrationInterface, QueryRunner } from 'typeorm';

export class PrivacyDeletions1764800000000 implements MigrationInterface {
  name = 'PrivacyDeletions1764800000000';

  async up(q: QueryRunner): Promise<void> {
    // A deletion request is its own job record: the worker that claims it holds a lease it renews,
    // so a worker that dies leaves it to another. `subject` (the identifier and the anonymousIds
    // linked to it when the work started) is needed only while the work runs and is erased when
    // it ends; what stays is a hash of the identifier and the verification record.
    await q.query(`
      CREATE TABLE privacy_deletions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        identity_kind text NOT NULL CHECK (identity_kind IN ('userId', 'anonymousId')),
        identity_hash text NOT NULL,
        subject jsonb,
        source_ids uuid[],
        suppression_id uuid REFERENCES suppressions (id),
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done')),
        attempts integer NOT NULL DEFAULT 0,
        lease_until timestamptz,
        not_before timestamptz NOT NULL DEFAULT now(),
        progress jsonb NOT NULL DEFAULT '{}'::jsonb,
        verification jsonb,
        last_error text,
        requested_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz
      )`);
    await q.query(`CREATE INDEX privacy_deletions_open_idx ON privacy_deletions (created_at) WHERE status <> 'done'`);
    await q.query(`CREATE INDEX privacy_deletions_created_idx ON privacy_deletions (created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS privacy_deletions`);
  }
}
