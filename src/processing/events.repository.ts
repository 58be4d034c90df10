import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DataSource } from 'typeorm';
import { EventRow } from './enrichment';

const COLUMNS = [
  'source_id', 'message_id', 'type', 'event', 'name', 'user_id', 'anonymous_id', 'group_id', 'previous_id',
  '"timestamp"', 'original_timestamp', 'sent_at', 'received_at', 'properties', 'traits', 'context', 'integrations', 'extra',
] as const;
const COLUMN_LIST = COLUMNS.join(', ');

/** The per-connection staging table the job's rows are COPYed into (emptied at commit). */
export const CREATE_STAGING_SQL = `
CREATE TEMP TABLE IF NOT EXISTS sluice_incoming (
  idx int, source_id uuid, message_id text, type text, event text, name text, user_id text,
  anonymous_id text, group_id text, previous_id text, "timestamp" timestamptz,
  original_timestamp timestamptz, sent_at timestamptz, received_at timestamptz,
  properties jsonb, traits jsonb, context jsonb, integrations jsonb, extra jsonb
) ON COMMIT DELETE ROWS`;

export const COPY_STAGING_SQL = `COPY sluice_incoming (idx, ${COLUMN_LIST}) FROM STDIN`;

/**
 * The write path, in one transaction: the job's rows are COPYed into a temp table (the fastest
 * way into PostgreSQL), then one statement keeps the first of any repeated (source, messageId),
 * claims the ids in event_dedup, and inserts only the rows whose claim succeeded. A concurrent
 * job claiming the same id waits on the unique index and then skips it, so each event is stored
 * exactly once. Snapshot: src/queries/insert-events.sql.
 */
export const INSERT_EVENTS_SQL = `
WITH uniq AS (
  SELECT DISTINCT ON (source_id, message_id) * FROM sluice_incoming ORDER BY source_id, message_id, idx
), claimed AS (
  INSERT INTO event_dedup (source_id, message_id)
  SELECT source_id, message_id FROM uniq
  ON CONFLICT DO NOTHING
  RETURNING source_id, message_id
)
INSERT INTO events (${COLUMN_LIST})
SELECT ${COLUMNS.map((c) => `u.${c}`).join(', ')}
FROM uniq u JOIN claimed c USING (source_id, message_id)`;

// COPY text format: backslash, newline, carriage return and tab are escaped; \N is NULL.
const TEXT_SPECIAL = /[\\\n\r\t]/;
function text(v: string | null): string {
  if (v === null) return '\\N';
  return TEXT_SPECIAL.test(v) ? v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t') : v;
}
// JSON.stringify already escapes control characters, so only backslashes need doubling.
function json(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  const s = JSON.stringify(v);
  return s.includes('\\') ? s.replace(/\\/g, '\\\\') : s;
}

export function copyLine(r: EventRow, idx: number): string {
  return `${idx}\t${r.source_id}\t${text(r.message_id)}\t${text(r.type)}\t${text(r.event)}\t${text(r.name)}\t${text(r.user_id)}\t${text(r.anonymous_id)}\t${text(r.group_id)}\t${text(r.previous_id)}\t${r.timestamp}\t${r.original_timestamp ?? '\\N'}\t${r.sent_at ?? '\\N'}\t${r.received_at}\t${json(r.properties)}\t${json(r.traits)}\t${json(r.context)}\t${json(r.integrations)}\t${json(r.extra)}\n`;
}

// Connections whose session already has the staging table (temp tables live per session).
const staged = new WeakSet<object>();

@Injectable()
export class EventsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Inserts rows not stored before; returns how many were new. */
  async insertDeduplicated(rows: EventRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    let payload = '';
    for (let i = 0; i < rows.length; i++) payload += copyLine(rows[i], i);
    const runner = this.db.createQueryRunner();
    try {
      const client = (await runner.connect()) as PoolClient;
      if (!staged.has(client)) {
        await client.query(CREATE_STAGING_SQL);
        staged.add(client);
      }
      await client.query('BEGIN');
      try {
        await pipeline(Readable.from([payload]), client.query(copyFrom(COPY_STAGING_SQL)));
        const result = await client.query(INSERT_EVENTS_SQL);
        await client.query('COMMIT');
        return result.rowCount ?? 0;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
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
