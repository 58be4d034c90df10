import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

export type DeadLetterStatus = 'pending' | 'replayed' | 'discarded';

export interface DeadLetterFilter {
  sourceId?: string;
  reason?: string;
  status?: DeadLetterStatus;
  from?: Date;
  to?: Date;
  /** text the original payload contains */
  text?: string;
}

export interface DeadLetterRow {
  id: string;
  source_id: string | null;
  message_id: string | null;
  request_id: string | null;
  job_id: string | null;
  attempts: number;
  reason_code: string;
  reason: string;
  status: DeadLetterStatus;
  payload_text: string;
  created_at: Date;
  updated_at: Date | null;
  fixed_at: Date | null;
}

export interface ReplayRow {
  id: string;
  filter: Record<string, unknown>;
  status: 'running' | 'done' | 'failed';
  matched: string;
  replayed: string;
  rejected: string;
  last_id: string;
  error: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

// `id` leaves as text (bigint); ORDER BY must name dead_letters.id, or it sorts the text alias.
const COLUMNS = `id::text AS id, source_id, message_id, request_id, job_id, attempts, reason_code, reason, status, payload_text, created_at, updated_at, fixed_at`;

/** The operator's side of `dead_letters` (the worker writes them: processing/dead-letters.repository.ts). */
@Injectable()
export class DeadLetterStoreRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  private where(f: DeadLetterFilter, params: unknown[]): string {
    const parts: string[] = [];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      parts.push(sql.replace('?', `$${params.length}`));
    };
    if (f.sourceId) add('source_id = ?', f.sourceId);
    if (f.reason) add('reason_code = ?', f.reason);
    if (f.status) add('status = ?', f.status);
    if (f.from) add('created_at >= ?', f.from);
    if (f.to) add('created_at < ?', f.to);
    // strpos, not LIKE: the operator's text is matched literally (no % or _ wildcards).
    if (f.text) add('strpos(payload_text, ?) > 0', f.text);
    return parts.length ? parts.join(' AND ') : 'true';
  }

  /** Newest first, keyset on id. */
  list(f: DeadLetterFilter, limit: number, beforeId?: string): Promise<DeadLetterRow[]> {
    const params: unknown[] = [];
    let where = this.where(f, params);
    if (beforeId) {
      params.push(beforeId);
      where += ` AND dead_letters.id < $${params.length}::bigint`;
    }
    params.push(limit);
    return this.db.query(`SELECT ${COLUMNS} FROM dead_letters WHERE ${where} ORDER BY dead_letters.id DESC LIMIT $${params.length}`, params);
  }

  /** Oldest first from `afterId`, for a replay walking the matches in batches. */
  nextBatch(f: DeadLetterFilter, afterId: string, limit: number): Promise<DeadLetterRow[]> {
    const params: unknown[] = [];
    const where = this.where(f, params);
    params.push(afterId, limit);
    return this.db.query(`SELECT ${COLUMNS} FROM dead_letters WHERE ${where} AND dead_letters.id > $${params.length - 1}::bigint ORDER BY dead_letters.id LIMIT $${params.length}`, params);
  }

  async get(id: string, manager: EntityManager = this.db.manager, lock = false): Promise<DeadLetterRow | null> {
    const rows: DeadLetterRow[] = await manager.query(`SELECT ${COLUMNS} FROM dead_letters WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
    return rows[0] ?? null;
  }

  transaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** The fixed payload: `text` is the whole queued event as JSON (what payload_text always holds). */
  async replacePayload(m: EntityManager, id: string, text: string, json: string | null): Promise<void> {
    await m.query(`UPDATE dead_letters SET payload_text = $2, payload = $3::jsonb, fixed_at = now(), updated_at = now(), status = 'pending' WHERE id = $1`, [id, text, json]);
  }

  /** Marks letters replayed (or discarded) unless they changed status meanwhile; returns the ids changed. */
  async setStatus(ids: string[], status: DeadLetterStatus, from: DeadLetterStatus[] = ['pending'], m: EntityManager = this.db.manager): Promise<string[]> {
    if (ids.length === 0) return [];
    // TypeORM answers an UPDATE ... RETURNING with [rows, affected count].
    const [rows] = (await m.query(
      `UPDATE dead_letters SET status = $2, updated_at = now() WHERE id = ANY($1::bigint[]) AND status = ANY($3::text[]) RETURNING id::text AS id`,
      [ids, status, from],
    )) as [{ id: string }[], number];
    return rows.map((r) => r.id);
  }

  /**
   * Discards, in one statement, the pending letters matching `f` (and among `ids`, when given);
   * answers how many, with the first 1000 ids (for the audit row).
   */
  async discardMatching(f: DeadLetterFilter, ids: string[] | undefined, m: EntityManager = this.db.manager): Promise<{ n: number; ids: string[] }> {
    const params: unknown[] = [];
    let where = this.where({ ...f, status: 'pending' }, params);
    if (ids) {
      params.push(ids);
      where += ` AND dead_letters.id = ANY($${params.length}::bigint[])`;
    }
    const rows: { n: number; ids: string[] | null }[] = await m.query(
      `WITH d AS (UPDATE dead_letters SET status = 'discarded', updated_at = now() WHERE ${where} RETURNING dead_letters.id)
       SELECT count(*)::int AS n, (array_agg(d.id::text ORDER BY d.id))[1:1000] AS ids FROM d`,
      params,
    );
    return { n: rows[0].n, ids: rows[0].ids ?? [] };
  }

  async count(f: DeadLetterFilter): Promise<number> {
    const params: unknown[] = [];
    const rows: { n: string }[] = await this.db.query(`SELECT count(*) AS n FROM dead_letters WHERE ${this.where(f, params)}`, params);
    return Number(rows[0].n);
  }

  /** Pending dead letters by reason code (a gauge's source). */
  async pendingByReason(): Promise<{ reason_code: string; n: string }[]> {
    return this.db.query(`SELECT reason_code, count(*) AS n FROM dead_letters WHERE status = 'pending' GROUP BY 1`);
  }

  async createReplay(filter: DeadLetterFilter, matched: number, m: EntityManager = this.db.manager): Promise<ReplayRow> {
    const rows: ReplayRow[] = await m.query(`INSERT INTO dead_letter_replays (filter, status, matched) VALUES ($1::jsonb, 'running', $2) RETURNING *, id::text AS id`, [JSON.stringify(filter), matched]);
    return rows[0];
  }

  async progress(id: string, p: { replayed: number; rejected: number; lastId: string }): Promise<void> {
    await this.db.query(`UPDATE dead_letter_replays SET replayed = replayed + $2, rejected = rejected + $3, last_id = $4, updated_at = now() WHERE id = $1`, [id, p.replayed, p.rejected, p.lastId]);
  }

  async finishReplay(id: string, status: 'done' | 'failed', error: string | null = null): Promise<void> {
    await this.db.query(`UPDATE dead_letter_replays SET status = $2, error = $3, updated_at = now(), finished_at = now() WHERE id = $1`, [id, status, error]);
  }

  async getReplay(id: string): Promise<ReplayRow | null> {
    const rows: ReplayRow[] = await this.db.query(`SELECT *, id::text AS id FROM dead_letter_replays WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }
}
