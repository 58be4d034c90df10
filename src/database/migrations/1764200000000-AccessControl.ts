import { MigrationInterface, QueryRunner } from 'typeorm';

export class AccessControl1764200000000 implements MigrationInterface {
  name = 'AccessControl1764200000000';

  async up(q: QueryRunner): Promise<void> {
    // Read keys are scoped to a list of sources; NULL means every source.
    await q.query(`ALTER TABLE api_keys ADD COLUMN source_ids uuid[]`);
    await q.query(`ALTER TABLE api_keys ADD COLUMN rotated_from uuid REFERENCES api_keys (id) ON DELETE SET NULL`);
    await q.query(`ALTER TABLE api_keys ADD CONSTRAINT api_keys_scope_check CHECK (
      (kind = 'write' AND source_id IS NOT NULL AND source_ids IS NULL) OR
      (kind = 'read' AND source_id IS NULL) OR
      (kind = 'admin' AND source_id IS NULL AND source_ids IS NULL))`);

    // Per-source limits; NULL falls back to the global defaults (RATE_LIMIT_*, DAILY_EVENT_QUOTA).
    await q.query(`ALTER TABLE sources ADD COLUMN rate_limit_rps integer CHECK (rate_limit_rps >= 0)`);
    await q.query(`ALTER TABLE sources ADD COLUMN rate_limit_eps integer CHECK (rate_limit_eps >= 0)`);
    await q.query(`ALTER TABLE sources ADD COLUMN daily_event_quota bigint CHECK (daily_event_quota >= 0)`);

    await q.query(`
      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor_type text NOT NULL CHECK (actor_type IN ('admin_key', 'admin_token', 'cli')),
        actor_key_id text,
        action text NOT NULL,
        target_type text NOT NULL,
        target_id text,
        ip text,
        request_id text,
        change jsonb NOT NULL DEFAULT '{}'
      )`);
    await q.query(`CREATE INDEX audit_log_at_idx ON audit_log (at)`);
    await q.query(`CREATE INDEX audit_log_action_idx ON audit_log (action, id)`);
    await q.query(`CREATE INDEX audit_log_target_idx ON audit_log (target_id, id)`);
    // Append-only, enforced by the database: no code path (or SQL console) of the application's
    // role can change history.
    await q.query(`
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
      END
      $fn$`);
    await q.query(`CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`);
    await q.query(`CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS audit_log`);
    await q.query(`DROP FUNCTION IF EXISTS audit_log_append_only()`);
    await q.query(`ALTER TABLE sources DROP COLUMN daily_event_quota, DROP COLUMN rate_limit_eps, DROP COLUMN rate_limit_rps`);
    await q.query(`ALTER TABLE api_keys DROP CONSTRAINT api_keys_scope_check`);
    await q.query(`ALTER TABLE api_keys DROP COLUMN rotated_from, DROP COLUMN source_ids`);
  }
}
