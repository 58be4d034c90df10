import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DataSource } from 'typeorm';
import { EVENT_COLUMN_LIST, EVENT_COLUMNS, EventRow, sqlIdent } from '../domain/events/event-columns';
import { copyLine } from '../domain/events/copy-format';
import { AppConfig } from '../config';
import { inSpan } from '../tracing/trace-context';

/** The per-connection staging table the job's rows are COPYed into (emptied at commit). */
export const CREATE_STAGING_SQL = `
CREATE TEMP TABLE IF NOT EXISTS sluice_incoming (
  idx int, ${EVENT_COLUMNS.map((c) => `${sqlIdent(c.name)} ${c.type}`).join(', ')}
) ON COMMIT DELETE ROWS`;

export const COPY_STAGING_SQL = `COPY sluice_incoming (idx, ${EVENT_COLUMN_LIST}) FROM STDIN`;

/**
 * The write path, in one transaction: the job's rows are COPYed into a temp table (the fastest
 * way into PostgreSQL), then one statement keeps the first of any repeated (source, messageId),
 * claims the ids in event_dedup, inserts only the rows whose claim succeeded and, from exactly
 * those rows, adds to the hourly counts and the daily active users (and their count). A concurrent job claiming the same id waits on the
 * unique index and then skips it, so each event is stored, and counted, exactly once. Rollup
 * rows are upserted in key order, so two jobs never lock them in opposite orders (no deadlock).
 * Snapshots: src/queries/insert-events*.sql.
 */
function insertEventsSql(rollups: boolean): string {
  const claim = `
WITH uniq AS (
  SELECT DISTINCT ON (source_id, message_id) * FROM sluice_incoming ORDER BY source_id, message_id, idx
), claimed AS (
  INSERT INTO event_dedup (source_id, message_id, event_timestamp)
  SELECT source_id, message_id, "timestamp" FROM uniq
  ON CONFLICT DO NOTHING
  RETURNING source_id, message_id
), inserted AS (
  INSERT INTO events (${EVENT_COLUMN_LIST})
  SELECT ${EVENT_COLUMNS.map((c) => `u.${sqlIdent(c.name)}`).join(', ')}
  FROM uniq u JOIN claimed c USING (source_id, message_id)
  RETURNING source_id, "timestamp", type, event, coalesce(user_id, anonymous_id) AS user_key
)`;
  if (!rollups) return `${claim}
SELECT count(*)::int AS inserted FROM inserted`;
  return `${claim}, counted AS (
  INSERT INTO event_counts_hourly AS r (source_id, hour, type, event, n)
  SELECT source_id, date_trunc('hour', "timestamp", 'UTC'), type, coalesce(event, ''), count(*)
  FROM inserted GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (source_id, hour, type, event) DO UPDATE SET n = r.n + excluded.n
), active AS (
  INSERT INTO event_users_daily (source_id, day, user_key)
  SELECT DISTINCT source_id, ("timestamp" AT TIME ZONE 'UTC')::date, user_key
  FROM inserted WHERE user_key IS NOT NULL ORDER BY 1, 2, 3
  ON CONFLICT DO NOTHING
  RETURNING source_id, day
), uniques AS (
  INSERT INTO event_uniques_daily AS d (source_id, day, users)
  SELECT source_id, day, count(*) FROM active GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (source_id, day) DO UPDATE SET users = d.users + excluded.users
)
SELECT count(*)::int AS inserted FROM inserted`;
}

export const INSERT_EVENTS_SQL = insertEventsSql(true);
/** ROLLUPS=off: the same without the rollup (the query API then reads raw rows only). */
export const INSERT_EVENTS_NO_ROLLUPS_SQL = insertEventsSql(false);

// Connections whose session already has the staging table (temp tables live per session).
const staged = new WeakSet<object>();

@Injectable()
export class EventsRepository {
  private readonly insertSql: string;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    config: AppConfig,
  ) {
    this.insertSql = config.query.rollups ? INSERT_EVENTS_SQL : INSERT_EVENTS_NO_ROLLUPS_SQL;
  }

  /** Inserts rows not stored before; returns how many were new. */
  async insertDeduplicated(rows: EventRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    let payload = '';
    for (let i = 0; i < rows.length; i++) payload += copyLine(rows[i], i);
    return this.insertCopyLines(payload, rows.length);
  }

  /**
   * The same for rows already in the staging table's COPY text (`idx\t<fields>\n` per row, as a
   * rows job carries them): streamed to PostgreSQL as they are. `count` is the number of lines.
   */
  async insertCopyLines(payload: string, count: number): Promise<number> {
    if (count === 0) return 0;
    const runner = this.db.createQueryRunner();
    try {
      const client = (await runner.connect()) as PoolClient;
      if (!staged.has(client)) {
        await client.query(CREATE_STAGING_SQL);
        staged.add(client);
      }
      await client.query('BEGIN');
      try {
        const rowCount = { 'sluice.rows.count': count };
        await inSpan('db.copy_staging', { attributes: rowCount }, () => pipeline(Readable.from([payload]), client.query(copyFrom(COPY_STAGING_SQL))));
        // Dedup, insert and (with ROLLUPS=on) the rollups are one statement: one span.
        const result = await inSpan('db.insert_events', { attributes: { ...rowCount, 'sluice.rollups': this.insertSql === INSERT_EVENTS_SQL } }, async (span) => {
          const r = await client.query<{ inserted: number }>(this.insertSql);
          span?.setAttribute('sluice.events.inserted', r.rows[0]?.inserted ?? 0);
          return r;
        });
        await inSpan('db.commit', {}, () => client.query('COMMIT'));
        return result.rows[0]?.inserted ?? 0;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    } finally {
      await runner.release();
    }
  }

  /**
   * Creates the daily partitions of these UTC days (YYYY-MM-DD) where missing, moving any rows
   * the default partition holds for them; returns how many were created. Runs in its own short
   * transaction per day, never inside an insert.
   */
  async ensurePartitionsFor(days: string[]): Promise<number> {
    if (days.length === 0) return 0;
    const rows: { created: boolean }[] = await this.db.query(
      `SELECT sluice_ensure_event_partition(d) AS created FROM unnest($1::date[]) AS d`,
      [days],
    );
    return rows.filter((r) => r.created).length;
  }

  /** The UTC days that have rows in the default partition (none in steady state), at most `limit`. */
  async daysInDefaultPartition(limit = 100): Promise<string[]> {
    const rows: { day: string }[] = await this.db.query(
      `SELECT DISTINCT to_char(("timestamp" AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS day FROM events_default LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.day);
  }

  /** Rows in the default partition, counted up to `cap` (a gauge, not an audit). */
  async defaultPartitionRows(cap = 1_000_000): Promise<number> {
    const rows: { n: string }[] = await this.db.query(`SELECT count(*) AS n FROM (SELECT 1 FROM events_default LIMIT $1) t`, [cap]);
    return Number(rows[0]?.n ?? 0);
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
