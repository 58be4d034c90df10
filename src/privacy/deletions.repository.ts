import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { quoteIdent } from '../database/sql';

export type DeletionStatus = 'pending' | 'running' | 'done';

/** What the work needs while it runs (erased when it ends). */
export interface DeletionSubject {
  userId: string | null;
  anonymousIds: string[];
}

/** Rows removed so far, per table (cumulative across attempts: each batch adds in its own transaction). */
export interface Removed {
  events: number;
  event_dedup: number;
  dead_letters: number;
  event_counts_hourly: number;
  event_users_daily: number;
  event_uniques_daily: number;
  /** tracking-plan violation groups whose sample event was the person's (the sample is erased, the count kept) */
  violation_samples: number;
}

export interface DeletionProgress {
  removed?: Removed;
  partitionsTotal?: number;
  partitionsDone?: number;
  pass?: number;
  linkedAnonymousIds?: number;
}

export interface DeletionRow {
  id: string;
  identity_kind: 'userId' | 'anonymousId';
  identity_hash: string;
  subject: DeletionSubject | null;
  source_ids: string[] | null;
  suppression_id: string | null;
  status: DeletionStatus;
  attempts: number;
  progress: DeletionProgress;
  verification: Record<string, unknown> | null;
  last_error: string | null;
  requested_by: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export const EMPTY_REMOVED: Removed = { events: 0, event_dedup: 0, dead_letters: 0, event_counts_hourly: 0, event_users_daily: 0, event_uniques_daily: 0, violation_samples: 0 };

/** The person's rows, as a predicate on `events` (or one partition) aliased `e`: $1 userId, $2 anonymousIds, $3 sourceIds. */
const PERSON = `(e.user_id = $1 OR e.anonymous_id = ANY($2::text[])) AND ($3::uuid[] IS NULL OR e.source_id = ANY($3::uuid[]))`;

/**
 * One batch: the rows at these tids (re-checked against the person, so a stale tid can never
 * remove someone else's row), their dedup claims, and their share of the hourly counts, in one
 * transaction. Returns the counts and the (source, UTC day, user key) the rows were counted under.
 */
const DELETE_BATCH_SQL = (partition: string) => `
WITH gone AS (
  DELETE FROM ${partition} e WHERE e.ctid = ANY($4::tid[]) AND ${PERSON}
  RETURNING e.source_id, e.message_id, e."timestamp", e.type, coalesce(e.event, '') AS event, coalesce(e.user_id, e.anonymous_id) AS user_key
), dedup AS (
  DELETE FROM event_dedup d USING gone g WHERE d.source_id = g.source_id AND d.message_id = g.message_id
  RETURNING 1
)
SELECT (SELECT count(*)::int FROM gone) AS events,
       (SELECT count(*)::int FROM dedup) AS dedup,
       (SELECT coalesce(jsonb_agg(c), '[]') FROM (
          SELECT source_id, date_trunc('hour', "timestamp", 'UTC') AS hour, type, event, count(*)::int AS n FROM gone GROUP BY 1, 2, 3, 4) c) AS hours,
       (SELECT coalesce(jsonb_agg(k), '[]') FROM (
          SELECT DISTINCT source_id, ("timestamp" AT TIME ZONE 'UTC')::date AS day, user_key FROM gone WHERE user_key IS NOT NULL) k) AS keys`;

// Lock the hourly rows in key order first, the order the insert path upserts them in, so the two never deadlock.
const LOCK_HOURS_SQL = `
SELECT 1 FROM event_counts_hourly r
  JOIN jsonb_to_recordset($1::jsonb) AS c(source_id uuid, hour timestamptz, type text, event text, n int)
    ON r.source_id = c.source_id AND r.hour = c.hour AND r.type = c.type AND r.event = c.event
 ORDER BY r.source_id, r.hour, r.type, r.event FOR UPDATE OF r`;
const SUBTRACT_HOURS_SQL = `
UPDATE event_counts_hourly r SET n = r.n - c.n
  FROM jsonb_to_recordset($1::jsonb) AS c(source_id uuid, hour timestamptz, type text, event text, n int)
 WHERE r.source_id = c.source_id AND r.hour = c.hour AND r.type = c.type AND r.event = c.event`;
const DROP_EMPTY_HOURS_SQL = `
DELETE FROM event_counts_hourly r
 USING jsonb_to_recordset($1::jsonb) AS c(source_id uuid, hour timestamptz, type text, event text, n int)
 WHERE r.source_id = c.source_id AND r.hour = c.hour AND r.type = c.type AND r.event = c.event AND r.n <= 0`;

/**
 * After a partition's rows are gone: a user-day the person was counted under stays only if some
 * other row of that day still carries the key (one scan of the partition), and each user-day
 * removed takes one off that day's distinct users.
 */
const FIX_USER_DAYS_SQL = (partition: string) => `
WITH cand AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS c(source_id uuid, day date, user_key text)
), still AS (
  SELECT DISTINCT e.source_id, (e."timestamp" AT TIME ZONE 'UTC')::date AS day, coalesce(e.user_id, e.anonymous_id) AS user_key
    FROM ${partition} e
   WHERE e.source_id = ANY(SELECT source_id FROM cand) AND coalesce(e.user_id, e.anonymous_id) = ANY(SELECT user_key FROM cand)
), gone AS (
  DELETE FROM event_users_daily u USING cand c
   WHERE u.source_id = c.source_id AND u.day = c.day AND u.user_key = c.user_key
     AND NOT EXISTS (SELECT 1 FROM still s WHERE s.source_id = c.source_id AND s.day = c.day AND s.user_key = c.user_key)
  RETURNING u.source_id, u.day
), lowered AS (
  UPDATE event_uniques_daily d SET users = greatest(d.users - g.n, 0)
    FROM (SELECT source_id, day, count(*)::int AS n FROM gone GROUP BY 1, 2 ORDER BY 1, 2) g
   WHERE d.source_id = g.source_id AND d.day = g.day
  RETURNING 1
)
SELECT (SELECT count(*)::int FROM gone) AS user_days, (SELECT count(*)::int FROM lowered) AS uniques`;

/** Deletion requests, and the set-based statements that carry one out. */
@Injectable()
export class DeletionsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async create(r: { kind: 'userId' | 'anonymousId'; hash: string; subject: DeletionSubject; sourceIds: string[] | null; suppressionId: string | null; requestedBy: string | null }): Promise<DeletionRow> {
    const rows: DeletionRow[] = await this.db.query(
      `INSERT INTO privacy_deletions (identity_kind, identity_hash, subject, source_ids, suppression_id, requested_by, progress)
       VALUES ($1, $2, $3, $4::uuid[], $5, $6, $7) RETURNING *`,
      [r.kind, r.hash, JSON.stringify(r.subject), r.sourceIds, r.suppressionId, r.requestedBy, JSON.stringify({ removed: EMPTY_REMOVED })],
    );
    return rows[0];
  }

  async get(id: string): Promise<DeletionRow | null> {
    const rows: DeletionRow[] = await this.db.query(`SELECT * FROM privacy_deletions WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  list(limit: number): Promise<DeletionRow[]> {
    return this.db.query(`SELECT * FROM privacy_deletions ORDER BY created_at DESC LIMIT $1`, [limit]);
  }

  /** Requests not done, by age (for the gauge). */
  async open(): Promise<number> {
    const rows: { n: number }[] = await this.db.query(`SELECT count(*)::int AS n FROM privacy_deletions WHERE status <> 'done'`);
    return rows[0]?.n ?? 0;
  }

  /**
   * Claims the oldest request that is pending, or running under an expired lease (its worker
   * died), for `leaseMs`. At most one worker wins each.
   */
  async claim(leaseMs: number): Promise<DeletionRow | null> {
    const [rows] = (await this.db.query(
      `UPDATE privacy_deletions d SET status = 'running', attempts = d.attempts + 1, lease_until = now() + $1 * interval '1 millisecond',
              started_at = coalesce(d.started_at, now())
        WHERE d.id = (SELECT id FROM privacy_deletions
                       WHERE status <> 'done' AND not_before <= now() AND (status = 'pending' OR lease_until < now())
                       ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING d.*`,
      [leaseMs],
    )) as [DeletionRow[], number];
    return rows[0] ?? null;
  }

  /** Keeps the lease and records progress; false when the lease was lost (another worker took over). */
  async heartbeat(id: string, leaseMs: number, progress: Omit<DeletionProgress, 'removed'>): Promise<boolean> {
    const [, n] = (await this.db.query(
      `UPDATE privacy_deletions SET lease_until = now() + $2 * interval '1 millisecond', progress = progress || $3::jsonb
        WHERE id = $1 AND status = 'running'`,
      [id, leaseMs, JSON.stringify(progress)],
    )) as [unknown, number];
    return n > 0;
  }

  /** Records the subject's anonymousIds once they are known (a resumed run must use the same set). */
  async setSubject(id: string, subject: DeletionSubject): Promise<void> {
    await this.db.query(`UPDATE privacy_deletions SET subject = $2 WHERE id = $1`, [id, JSON.stringify(subject)]);
  }

  /** Leaves a failed attempt for a later one. */
  async release(id: string, error: string, retryInMs: number): Promise<void> {
    await this.db.query(
      `UPDATE privacy_deletions SET status = 'pending', lease_until = NULL, last_error = $2, not_before = now() + $3 * interval '1 millisecond' WHERE id = $1 AND status = 'running'`,
      [id, error.slice(0, 2000), retryInMs],
    );
  }

  /** Done: the verification record is kept, the identifiers are erased. */
  async finish(id: string, verification: Record<string, unknown>): Promise<DeletionRow | null> {
    const [rows] = (await this.db.query(
      `UPDATE privacy_deletions SET status = 'done', subject = NULL, lease_until = NULL, finished_at = now(), verification = $2, last_error = NULL
        WHERE id = $1 AND status = 'running' RETURNING *`,
      [id, JSON.stringify(verification)],
    )) as [DeletionRow[], number];
    return rows[0] ?? null;
  }

  /** The partitions of `events` (the default one last), by name. */
  async partitions(): Promise<string[]> {
    const rows: { name: string }[] = await this.db.query(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'events'::regclass ORDER BY c.relname = 'events_default', c.relname`,
    );
    return rows.map((r) => r.name);
  }

  /**
   * Removes the person's rows of one partition batch by batch: a read-only cursor (one scan,
   * constant memory) yields their tids, and each batch is deleted in its own short transaction
   * on another connection, so ingestion is never held up for longer than one batch. `onBatch`
   * runs after each commit (progress, lease); a false return stops the work.
   */
  async deletePartition(
    partition: string,
    subject: DeletionSubject,
    sourceIds: string[] | null,
    batchRows: number,
    id: string,
    onBatch: () => Promise<boolean>,
  ): Promise<{ removed: Removed; stopped: boolean }> {
    const removed = { ...EMPTY_REMOVED };
    const table = `public.${quoteIdent(partition)}`;
    const params = [subject.userId, subject.anonymousIds, sourceIds];
    const userDays = new Map<string, { source_id: string; day: string; user_key: string }>();
    const scan = this.db.createQueryRunner();
    const write = this.db.createQueryRunner();
    try {
      const scanClient = (await scan.connect()) as PoolClient;
      const writeClient = (await write.connect()) as PoolClient;
      if ((await scanClient.query(`SELECT to_regclass($1) AS r`, [table])).rows[0].r === null) return { removed, stopped: false };
      await scanClient.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await scanClient.query(`DECLARE sluice_deletion NO SCROLL CURSOR FOR SELECT e.ctid::text AS tid FROM ${table} e WHERE ${PERSON}`, params);
      for (;;) {
        const tids = (await scanClient.query<{ tid: string }>(`FETCH ${batchRows} FROM sluice_deletion`)).rows.map((r) => r.tid);
        if (tids.length === 0) break;
        await writeClient.query('BEGIN');
        try {
          const r = (await writeClient.query<{ events: number; dedup: number; hours: HourCount[]; keys: { source_id: string; day: string; user_key: string }[] }>(DELETE_BATCH_SQL(table), [...params, tids])).rows[0];
          let hours = 0;
          if (r.hours.length) {
            const hourly = JSON.stringify(r.hours);
            await writeClient.query(LOCK_HOURS_SQL, [hourly]);
            await writeClient.query(SUBTRACT_HOURS_SQL, [hourly]);
            hours = (await writeClient.query(DROP_EMPTY_HOURS_SQL, [hourly])).rowCount ?? 0;
          }
          const delta = { events: r.events, event_dedup: r.dedup, event_counts_hourly: hours };
          await writeClient.query(ADD_REMOVED_SQL, [id, JSON.stringify(delta)]);
          await writeClient.query('COMMIT');
          removed.events += r.events;
          removed.event_dedup += r.dedup;
          removed.event_counts_hourly += hours;
          for (const k of r.keys) userDays.set(`${k.source_id}|${k.day}|${k.user_key}`, k);
        } catch (err) {
          await writeClient.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
        if (!(await onBatch())) return { removed, stopped: true };
      }
      await scanClient.query('COMMIT');
      if (userDays.size) {
        await writeClient.query('BEGIN');
        try {
          const r = (await writeClient.query<{ user_days: number; uniques: number }>(FIX_USER_DAYS_SQL(table), [JSON.stringify([...userDays.values()])])).rows[0];
          await writeClient.query(ADD_REMOVED_SQL, [id, JSON.stringify({ event_users_daily: r.user_days, event_uniques_daily: r.uniques })]);
          await writeClient.query('COMMIT');
          removed.event_users_daily += r.user_days;
          removed.event_uniques_daily += r.uniques;
        } catch (err) {
          await writeClient.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      }
      return { removed, stopped: false };
    } finally {
      await scan.query('ROLLBACK').catch(() => undefined);
      await scan.release();
      await write.release();
    }
  }

  /** The person's dead letters (by the userId / anonymousId of their payload), and their events kept as violation samples. */
  async deleteDeadLetters(id: string, subject: DeletionSubject, sourceIds: string[] | null): Promise<{ dead_letters: number; violation_samples: number }> {
    return this.db.transaction(async (m) => {
      const params = [subject.userId, subject.anonymousIds, sourceIds];
      const [, n] = (await m.query(`DELETE FROM dead_letters e WHERE ${DEAD_LETTER_PERSON}`, params)) as [unknown, number];
      const [, samples] = (await m.query(`UPDATE violation_counts_hourly e SET sample = NULL WHERE ${SAMPLE_PERSON}`, params)) as [unknown, number];
      await m.query(ADD_REMOVED_SQL, [id, JSON.stringify({ dead_letters: n, violation_samples: samples })]);
      return { dead_letters: n, violation_samples: samples };
    });
  }

  /** The re-check: the person's rows still stored (0 when the deletion is complete). */
  async remaining(subject: DeletionSubject, sourceIds: string[] | null): Promise<{ events: number; dead_letters: number; violation_samples: number }> {
    const params = [subject.userId, subject.anonymousIds, sourceIds];
    const rows: { events: number; dead_letters: number; violation_samples: number }[] = await this.db.query(
      `SELECT (SELECT count(*)::int FROM events e WHERE ${PERSON}) AS events,
              (SELECT count(*)::int FROM dead_letters e WHERE ${DEAD_LETTER_PERSON}) AS dead_letters,
              (SELECT count(*)::int FROM violation_counts_hourly e WHERE ${SAMPLE_PERSON}) AS violation_samples`,
      params,
    );
    return rows[0];
  }
}

interface HourCount {
  source_id: string;
  hour: string;
  type: string;
  event: string;
  n: number;
}

// Payloads are whatever the client sent: ->> is NULL where it is not an object or lacks the field.
const DEAD_LETTER_PERSON = `(e.payload->>'userId' = $1 OR e.payload->>'anonymousId' = ANY($2::text[]))
  AND ($3::uuid[] IS NULL OR e.source_id = ANY($3::uuid[]))`;
// A violation group's sample event (the event as sent: userId / anonymousId at the top).
const SAMPLE_PERSON = `(e.sample->>'userId' = $1 OR e.sample->>'anonymousId' = ANY($2::text[]))
  AND ($3::uuid[] IS NULL OR e.source_id = ANY($3::uuid[]))`;

// Adds a batch's counts to the request's totals in the batch's own transaction: exact across crashes.
const ADD_REMOVED_SQL = `
UPDATE privacy_deletions SET progress = jsonb_set(progress, '{removed}', (
  SELECT jsonb_object_agg(k, coalesce((progress->'removed'->>k)::bigint, 0) + coalesce((d->>k)::bigint, 0))
    FROM jsonb_object_keys(coalesce(progress->'removed', '{}'::jsonb) || $2::jsonb) AS k, (SELECT $2::jsonb AS d) x))
 WHERE id = $1`;
