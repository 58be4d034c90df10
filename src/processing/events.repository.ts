import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { EventRow } from './enrichment';

/**
 * The write path, as one statement (hence one transaction): unpack the job's rows from a
 * single JSON parameter, keep the first of any repeated (source, messageId), claim the ids in
 * event_dedup, and insert only the rows whose claim succeeded. A concurrent job claiming the
 * same id waits on the unique index and then skips it, so each event is stored exactly once.
 * Snapshot: src/queries/insert-events.sql.
 */
export const INSERT_EVENTS_SQL = `
WITH input AS (
  SELECT * FROM json_to_recordset($1::json) AS r(
    idx int, source_id uuid, message_id text, type text, event text, name text, user_id text,
    anonymous_id text, group_id text, previous_id text, "timestamp" timestamptz,
    original_timestamp timestamptz, sent_at timestamptz, received_at timestamptz,
    properties jsonb, traits jsonb, context jsonb, integrations jsonb, extra jsonb)
), uniq AS (
  SELECT DISTINCT ON (source_id, message_id) * FROM input ORDER BY source_id, message_id, idx
), claimed AS (
  INSERT INTO event_dedup (source_id, message_id)
  SELECT source_id, message_id FROM uniq
  ON CONFLICT DO NOTHING
  RETURNING source_id, message_id
)
INSERT INTO events (source_id, message_id, type, event, name, user_id, anonymous_id, group_id,
  previous_id, "timestamp", original_timestamp, sent_at, received_at, properties, traits,
  context, integrations, extra)
SELECT u.source_id, u.message_id, u.type, u.event, u.name, u.user_id, u.anonymous_id, u.group_id,
  u.previous_id, u."timestamp", u.original_timestamp, u.sent_at, u.received_at, u.properties,
  u.traits, u.context, u.integrations, u.extra
FROM uniq u JOIN claimed c USING (source_id, message_id)`;

@Injectable()
export class EventsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Inserts rows not stored before; returns how many were new. */
  async insertDeduplicated(rows: EventRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const payload = JSON.stringify(rows.map((r, idx) => ({ idx, ...r })));
    const runner = this.db.createQueryRunner();
    try {
      // The structured result carries rowCount: the number of events that were new.
      const result = await runner.query(INSERT_EVENTS_SQL, [payload], true);
      return result.affected ?? 0;
    } finally {
      await runner.release();
    }
  }

  /** Creates the daily partitions from yesterday to `daysAhead` days ahead (idempotent). */
  async ensurePartitions(daysAhead: number): Promise<number> {
    const rows: { created: boolean }[] = await this.db.query(
      `SELECT sluice_ensure_event_partition((now() AT TIME ZONE 'UTC')::date + d) AS created
         FROM generate_series(-1, $1::int) AS d`,
      [daysAhead],
    );
    return rows.filter((r) => r.created).length;
  }
}
