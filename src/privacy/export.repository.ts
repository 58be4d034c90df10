import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config';
import { EVENT_VIEW_SELECT } from '../query/events-query.repository';

export interface ExportSubject {
  userId?: string;
  anonymousId?: string;
  sourceIds?: string[];
}

const PAGE = 1000;

// Every source that has stored events: the sources table, and (for deleted sources, whose events
// stay) the source ids of the hourly rollup, read by a loose index scan (one probe per source).
const KNOWN_SOURCES_SQL = `
WITH RECURSIVE s AS (
  (SELECT source_id FROM event_counts_hourly ORDER BY source_id LIMIT 1)
  UNION ALL
  SELECT (SELECT r.source_id FROM event_counts_hourly r WHERE r.source_id > s.source_id ORDER BY r.source_id LIMIT 1) FROM s WHERE s.source_id IS NOT NULL
)
SELECT source_id AS id FROM s WHERE source_id IS NOT NULL UNION SELECT id FROM sources`;

/** A person's stored events, read through a server-side cursor: constant memory whatever the volume. */
@Injectable()
export class ExportRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: AppConfig,
  ) {}

  /**
   * The anonymousIds tied to a userId: sent together on an event, or aliased to it (previousId).
   * Always by source, so the (source, user, time) index answers it: without a source filter the
   * lookup read every partition whole (11-26 s on 10 M events, docs/performance.md).
   */
  async linkedAnonymousIds(userId: string, sourceIds?: string[]): Promise<string[]> {
    // Without rollups, deleted sources are not known: then every row is read, as before.
    const sources = sourceIds ?? (this.config.query.rollups ? (await this.db.query(KNOWN_SOURCES_SQL) as { id: string }[]).map((r) => r.id) : undefined);
    const bySource = sources ? ' AND source_id = ANY($2::uuid[])' : '';
    const params: unknown[] = sources ? [userId, sources] : [userId];
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
