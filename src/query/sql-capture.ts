import { AppConfig } from '../config';
import { EventsQueryRepository } from './events-query.repository';
import { QueryDatabase } from './query-database';
import { StatsRepository } from './stats.repository';

export interface CapturedSql {
  sql: string;
  params: unknown[];
}

/**
 * The query API's statements exactly as the repositories build them, captured instead of run:
 * for the SQL snapshots (src/queries/) and for `npm run bench:explain`, which runs them under
 * EXPLAIN on a seeded database. The repositories are the only place the SQL is written.
 */
export function captureQuerySql(config: AppConfig) {
  const captured: CapturedSql[] = [];
  const fake = {
    read: async (sql: string, params: unknown[]) => {
      captured.push({ sql, params });
      return [];
    },
    session: async <R>(work: (query: (sql: string, params: unknown[]) => Promise<unknown[]>) => Promise<R>) =>
      work(async (sql, params) => {
        captured.push({ sql, params });
        return [];
      }),
  } as unknown as QueryDatabase;
  const take = async (run: () => Promise<unknown>): Promise<CapturedSql[]> => {
    captured.length = 0;
    await run();
    return [...captured];
  };
  return { stats: new StatsRepository(fake, config), events: new EventsQueryRepository(fake), take };
}
