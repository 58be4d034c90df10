import { MigrationInterface, QueryRunner } from 'typeorm';

export class QueryApi1764400000000 implements MigrationInterface {
  name = 'QueryApi1764400000000';

  async up(q: QueryRunner): Promise<void> {
    // Counts per source, UTC hour, type and event name, kept by the worker in the insert
    // transaction from the rows actually inserted (a duplicate never counts). `event` is '' for
    // calls without a name, so it can be part of the key.
    await q.query(`
      CREATE TABLE event_counts_hourly (
        source_id uuid NOT NULL,
        hour timestamptz NOT NULL,
        type text NOT NULL,
        event text NOT NULL,
        n bigint NOT NULL,
        PRIMARY KEY (source_id, hour, type, event)
      )`);
    await q.query(`
      INSERT INTO event_counts_hourly (source_id, hour, type, event, n)
      SELECT source_id, date_trunc('hour', "timestamp", 'UTC'), type, coalesce(event, ''), count(*)
        FROM events GROUP BY 1, 2, 3, 4`);
    // Who was active on each UTC day (userId, else anonymousId), for distinct-user counts by day,
    // week and month without reading raw events; written in the same statement, from the same rows.
    await q.query(`
      CREATE TABLE event_users_daily (
        source_id uuid NOT NULL,
        day date NOT NULL,
        user_key text NOT NULL,
        PRIMARY KEY (source_id, day, user_key)
      )`);
    await q.query(`
      INSERT INTO event_users_daily (source_id, day, user_key)
      SELECT DISTINCT source_id, ("timestamp" AT TIME ZONE 'UTC')::date, coalesce(user_id, anonymous_id)
        FROM events WHERE coalesce(user_id, anonymous_id) IS NOT NULL`);
    // The receipt finds a stored event by its messageId without visiting every daily partition:
    // the dedup claim remembers the event's timestamp (NULL for events stored before this).
    await q.query(`ALTER TABLE event_dedup ADD COLUMN event_timestamp timestamptz`);
    // The list filtered by user (a support engineer's first question), newest first.
    await q.query(`CREATE INDEX events_source_user_time_idx ON events (source_id, user_id, "timestamp") WHERE user_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS events_source_user_time_idx`);
    await q.query(`ALTER TABLE event_dedup DROP COLUMN IF EXISTS event_timestamp`);
    await q.query(`DROP TABLE IF EXISTS event_users_daily`);
    await q.query(`DROP TABLE IF EXISTS event_counts_hourly`);
  }
}
