import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

export interface SuppressionRow {
  id: string;
  user_id: string | null;
  anonymous_id: string | null;
  source_ids: string[] | null;
  created_at: Date;
  lifted_at: Date | null;
}

@Injectable()
export class SuppressionsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  async create(m: EntityManager, who: { userId?: string; anonymousId?: string }, sourceIds: string[] | null): Promise<SuppressionRow> {
    const rows: SuppressionRow[] = await m.query(
      `INSERT INTO suppressions (user_id, anonymous_id, source_ids) VALUES ($1, $2, $3::uuid[]) RETURNING *`,
      [who.userId ?? null, who.anonymousId ?? null, sourceIds],
    );
    return rows[0];
  }

  active(): Promise<SuppressionRow[]> {
    return this.db.query(`SELECT * FROM suppressions WHERE lifted_at IS NULL ORDER BY created_at`);
  }

  list(includeLifted: boolean): Promise<SuppressionRow[]> {
    return this.db.query(`SELECT * FROM suppressions${includeLifted ? '' : ' WHERE lifted_at IS NULL'} ORDER BY created_at DESC LIMIT 10000`);
  }

  async lift(m: EntityManager, id: string): Promise<SuppressionRow | null> {
    const [rows] = (await m.query(`UPDATE suppressions SET lifted_at = coalesce(lifted_at, now()) WHERE id = $1 RETURNING *`, [id])) as [SuppressionRow[], number];
    return rows[0] ?? null;
  }
}
