import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { quoteIdent } from '../database/sql';

export interface EventPartition {
  name: string;
  /** The partition's range; both null for the default partition. */
  from: Date | null;
  to: Date | null;
}

export interface RemovedRows {
  events: number;
  event_dedup: number;
}

const LOCK_NOT_AVAILABLE = '55P03';

/**
 * One batch of rows older than the cutoff, of one partition (and one source, or all), with their
 * dedup claims, in one statement: the inner SELECT finds the tids by the (source, time) index, the
 * outer DELETE visits only those.
 */
const DELETE_OLDER_SQL = (table: string, bySource: boolean) => `
WITH gone AS (
  DELETE FROM ${table} e WHERE e.ctid = ANY(ARRAY(
    SELECT ctid FROM ${table} WHERE ${bySource ? 'source_id = $3 AND ' : ''}"timestamp" < $1 LIMIT $2))
  RETURNING e.source_id, e.message_id
), dedup AS (
  DELETE FROM event_dedup d USING gone g WHERE d.source_id = g.source_id AND d.message_id = g.message_id
  RETURNING 1
)
SELECT (SELECT count(*)::int FROM gone) AS events, (SELECT count(*)::int FROM dedup) AS dedup`;

// The claims of a partition about to be dropped; a claim of a newer event under the same id
// (impossible today: the claim is the event's) would survive by its time.
const DELETE_CLAIMS_SQL = `
DELETE FROM event_dedup d USING unnest($1::uuid[], $2::text[]) AS k(source_id, message_id)
 WHERE d.source_id = k.source_id AND d.message_id = k.message_id AND coalesce(d.event_timestamp, d.first_seen_at) < $3`;

/** The set-based statements of the retention job. Only this touches PostgreSQL for it. */
@Injectable()
export class RetentionRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The partitions of `events` with their ranges, oldest first, the default one last. */
  async partitions(): Promise<EventPartition[]> {
    const rows: { name: string; bound: string }[] = await this.db.query(
      `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'events'::regclass`,
    );
    return rows
      .map((r) => {
        const m = /FROM \('([^']+)'\) TO \('([^']+)'\)/.exec(r.bound);
        return { name: r.name, from: m ? new Date(m[1]) : null, to: m ? new Date(m[2]) : null };
      })
      .sort((a, b) => (a.from === null ? 1 : b.from === null ? -1 : a.from.getTime() - b.from.getTime()));
  }

  /** Sources that keep fewer days than `globalDays`. */
  shorterRetention(globalDays: number): Promise<{ id: string; retention_days: number }[]> {
    return this.db.query(`SELECT id, retention_days FROM sources WHERE retention_days < $1 ORDER BY id`, [globalDays]);
  }

  /**
   * Drops a partition wholly past retention. First its events' dedup claims go, batch by batch
   * from a read-only scan of the partition (set-based, by primary key: the cost follows the rows
   * removed, not the size of event_dedup); then DROP TABLE, which needs a moment's exclusive lock
   * on `events`: it waits at most `lockTimeoutMs` (ingestion queues behind it that long at worst)
   * and is tried again a few times. Returns the rows the partition held. Safe to run again.
   */
  async dropPartition(partition: EventPartition, cutoff: Date, batchRows: number, lockTimeoutMs: number): Promise<RemovedRows> {
    const table = `public.${quoteIdent(partition.name)}`;
    const removed: RemovedRows = { events: 0, event_dedup: 0 };
    const scan = this.db.createQueryRunner();
    const write = this.db.createQueryRunner();
    try {
      const scanClient = (await scan.connect()) as PoolClient;
      const writeClient = (await write.connect()) as PoolClient;
      if ((await scanClient.query(`SELECT to_regclass($1) AS r`, [table])).rows[0].r === null) return removed;
      await scanClient.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await scanClient.query(`DECLARE sluice_retention NO SCROLL CURSOR FOR SELECT source_id, message_id FROM ${table}`);
      for (;;) {
        const rows = (await scanClient.query<{ source_id: string; message_id: string }>(`FETCH ${batchRows} FROM sluice_retention`)).rows;
        if (rows.length === 0) break;
        removed.events += rows.length;
        const r = await writeClient.query(DELETE_CLAIMS_SQL, [rows.map((x) => x.source_id), rows.map((x) => x.message_id), cutoff]);
        removed.event_dedup += r.rowCount ?? 0;
      }
      await scanClient.query('COMMIT');
      for (let attempt = 1; ; attempt++) {
        try {
          await writeClient.query('BEGIN');
          await writeClient.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}`);
          await writeClient.query(`DROP TABLE IF EXISTS ${table}`);
          await writeClient.query('COMMIT');
          return removed;
        } catch (err) {
          await writeClient.query('ROLLBACK').catch(() => undefined);
          if ((err as { code?: string }).code !== LOCK_NOT_AVAILABLE || attempt >= 5) throw err;
          await new Promise((r) => setTimeout(r, attempt * lockTimeoutMs));
        }
      }
    } finally {
      await scan.query('ROLLBACK').catch(() => undefined);
      await scan.release();
      await write.release();
    }
  }

  /**
   * Deletes the rows of one partition older than `cutoff` (of one source, or all), with their
   * dedup claims, `batchRows` per short transaction so ingestion is never held up for long.
   */
  async deleteOlder(partition: string, cutoff: Date, sourceId: string | null, batchRows: number): Promise<RemovedRows> {
    const table = `public.${quoteIdent(partition)}`;
    const sql = DELETE_OLDER_SQL(table, sourceId !== null);
    const params = sourceId === null ? [cutoff, batchRows] : [cutoff, batchRows, sourceId];
    const removed: RemovedRows = { events: 0, event_dedup: 0 };
    for (;;) {
      const rows: { events: number; dedup: number }[] = await this.db.query(sql, params);
      removed.events += rows[0].events;
      removed.event_dedup += rows[0].dedup;
      if (rows[0].events < batchRows) return removed;
    }
  }

  /**
   * The rollups (and tracking-plan violation counts) of the UTC days before `cutoff` (a day boundary), of one source or all: the rows
   * they counted are gone. Returns rows removed per table.
   */
  async deleteRollups(cutoff: Date, sourceId: string | null): Promise<Record<'event_counts_hourly' | 'event_users_daily' | 'event_uniques_daily' | 'violation_counts_hourly', number>> {
    const where = sourceId === null ? '' : ' AND source_id = $2';
    const params = sourceId === null ? [cutoff] : [cutoff, sourceId];
    return this.db.transaction(async (m) => {
      const [, hourly] = (await m.query(`DELETE FROM event_counts_hourly WHERE hour < $1${where}`, params)) as [unknown, number];
      const [, users] = (await m.query(`DELETE FROM event_users_daily WHERE day < ($1::timestamptz AT TIME ZONE 'UTC')::date${where}`, params)) as [unknown, number];
      const [, uniques] = (await m.query(`DELETE FROM event_uniques_daily WHERE day < ($1::timestamptz AT TIME ZONE 'UTC')::date${where}`, params)) as [unknown, number];
      const [, violations] = (await m.query(`DELETE FROM violation_counts_hourly WHERE hour < $1${where}`, params)) as [unknown, number];
      return { event_counts_hourly: hourly, event_users_daily: users, event_uniques_daily: uniques, violation_counts_hourly: violations };
    });
  }

  /** Dead letters that arrived before `cutoff`, in batches (by the created_at index). */
  async deleteDeadLetters(cutoff: Date, batchRows: number): Promise<number> {
    let total = 0;
    for (;;) {
      const [, n] = (await this.db.query(
        `DELETE FROM dead_letters WHERE id = ANY(ARRAY(SELECT id FROM dead_letters WHERE created_at < $1 LIMIT $2))`,
        [cutoff, batchRows],
      )) as [unknown, number];
      total += n;
      if (n < batchRows) return total;
    }
  }
}
