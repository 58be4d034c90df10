import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { EVENT_VIEW_SELECT } from '../query/events-query.repository';

export interface ExportSubject {
  userId?: string;
  anonymousId?: string;
  sourceIds?: string[];
}

const PAGE = 1000;

/** A person's stored events, read through a server-side cursor: constant memory whatever the volume. */
@Injectable()
export class ExportRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The anonymousIds tied to a userId: sent together on an event, or aliased to it (previousId). */
  async linkedAnonymousIds(userId: string, sourceIds?: string[]): Promise<string[]> {
    const bySource = sourceIds ? ' AND source_id = ANY($2::uuid[])' : '';
    const params: unknown[] = sourceIds ? [userId, sourceIds] : [userId];
    const rows: { id: string }[] = await this.db.query(
      `SELECT anonymous_id AS id FROM events WHERE user_id = $1 AND anonymous_id IS NOT NULL${bySource}
       UNION SELECT previous_id FROM events WHERE user_id = $1 AND type = 'alias' AND previous_id IS NOT NULL${bySource}`,
      params,
    );
    return rows.map((r) => r.id).sort();
  }

  /** Pages of the person's events, oldest first. The cursor lives in one read-only transaction. */
  async *events(subject: ExportSubject, anonymousIds: string[]): AsyncGenerator<Record<string, unknown>[]> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const params: unknown[] = [subject.userId ?? null, anonymousIds];
      const bySource = subject.sourceIds ? ` AND source_id = ANY($3::uuid[])` : '';
      if (subject.sourceIds) params.push(subject.sourceIds);
      await runner.query(
        `DECLARE sluice_export NO SCROLL CURSOR FOR
         SELECT ${EVENT_VIEW_SELECT} FROM events
          WHERE (user_id = $1 OR anonymous_id = ANY($2::text[]))${bySource}
          ORDER BY "timestamp", message_id`,
        params,
      );
      for (;;) {
        const rows: Record<string, unknown>[] = await runner.query(`FETCH ${PAGE} FROM sluice_export`);
        if (rows.length === 0) break;
        yield rows;
      }
      await runner.query('COMMIT');
    } finally {
      await runner.query('ROLLBACK').catch(() => undefined);
      await runner.release();
    }
  }
}
