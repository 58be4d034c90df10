import { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1764100000000 implements MigrationInterface {
  name = 'Initial1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sources (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Keys are stored as SHA-256 of the whole key: they carry 190 random bits, so a slow
    // password hash buys nothing and would cost every uncached request.
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        key_id text NOT NULL UNIQUE,
        kind text NOT NULL CHECK (kind IN ('write', 'read', 'admin')),
        source_id uuid REFERENCES sources (id) ON DELETE CASCADE,
        name text,
        secret_hash bytea NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz,
        revoked_at timestamptz,
        last_used_at timestamptz,
        CHECK (kind <> 'write' OR source_id IS NOT NULL)
      )`);
    await q.query(`CREATE INDEX api_keys_source_idx ON api_keys (source_id)`);

    // Events: one row per accepted, deduplicated event, partitioned by day on the corrected
    // timestamp. The default partition takes any timestamp no daily partition covers.
    await q.query(`
      CREATE TABLE events (
        source_id uuid NOT NULL,
        message_id text NOT NULL,
        type text NOT NULL,
        event text,
        name text,
        user_id text,
        anonymous_id text,
        group_id text,
        previous_id text,
        "timestamp" timestamptz NOT NULL,
        original_timestamp timestamptz,
        sent_at timestamptz,
        received_at timestamptz NOT NULL,
        properties jsonb,
        traits jsonb,
        context jsonb,
        integrations jsonb,
        extra jsonb
      ) PARTITION BY RANGE ("timestamp")`);
    await q.query(`CREATE TABLE events_default PARTITION OF events DEFAULT`);
    await q.query(`CREATE INDEX events_source_time_idx ON events (source_id, "timestamp")`);

    // A unique index on the partitioned table would have to include "timestamp", and a retry
    // with another timestamp would slip through; dedup therefore has its own table, written
    // in the same statement as the events.
    await q.query(`
      CREATE TABLE event_dedup (
        source_id uuid NOT NULL,
        message_id text NOT NULL,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (source_id, message_id)
      )`);

    await q.query(`
      CREATE TABLE dead_letters (
        id bigserial PRIMARY KEY,
        source_id uuid,
        message_id text,
        request_id text,
        job_id text,
        attempts integer NOT NULL DEFAULT 0,
        reason text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX dead_letters_created_idx ON dead_letters (created_at)`);

    // Creates the daily partition for one UTC day, moving any rows the default partition
    // already holds for that day, so creating a partition late never fails.
    await q.query(`
      CREATE OR REPLACE FUNCTION sluice_ensure_event_partition(day date) RETURNS boolean
      LANGUAGE plpgsql AS $fn$
      DECLARE
        part text := format('events_%s', to_char(day, 'YYYYMMDD'));
        lo timestamptz := (day::timestamp AT TIME ZONE 'UTC');
        hi timestamptz := ((day + 1)::timestamp AT TIME ZONE 'UTC');
      BEGIN
        IF to_regclass(part) IS NOT NULL THEN RETURN false; END IF;
        PERFORM pg_advisory_xact_lock(hashtext('sluice_event_partitions'));
        IF to_regclass(part) IS NOT NULL THEN RETURN false; END IF;
        LOCK TABLE events_default IN SHARE ROW EXCLUSIVE MODE;
        EXECUTE format('CREATE TABLE %I (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
        EXECUTE format(
          'WITH moved AS (DELETE FROM events_default WHERE "timestamp" >= $1 AND "timestamp" < $2 RETURNING *)
           INSERT INTO %I SELECT * FROM moved', part) USING lo, hi;
        EXECUTE format('ALTER TABLE events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
        RETURN true;
      END
      $fn$`);
    await q.query(`SELECT sluice_ensure_event_partition((now() AT TIME ZONE 'UTC')::date + d) FROM generate_series(-1, 7) AS d`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS sluice_ensure_event_partition(date)`);
    await q.query(`DROP TABLE IF EXISTS dead_letters`);
    await q.query(`DROP TABLE IF EXISTS event_dedup`);
    await q.query(`DROP TABLE IF EXISTS events`);
    await q.query(`DROP TABLE IF EXISTS api_keys`);
    await q.query(`DROP TABLE IF EXISTS sources`);
  }
}
