import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config';
import { EVENT_VIEW_SELECT } from '../query/events-query.repository';
import { captureQuerySql } from '../query/sql-capture';
import { CREATE_STAGING_SQL, INSERT_EVENTS_NO_ROLLUPS_SQL, INSERT_EVENTS_SQL } from './events.repository';

// The hot queries are snapshotted in src/queries/*.sql so that a change to them, or to the
// column list they are derived from, shows up in review. To accept a change:
//   SQL_SNAPSHOTS=update npx jest --selectProjects unit src/processing/queries.spec.ts
const FIXED: Record<string, { what: string; sql: string }> = {
  'insert-events.sql': { what: 'EventsRepository.INSERT_EVENTS_SQL', sql: INSERT_EVENTS_SQL },
  'insert-events-no-rollups.sql': { what: 'EventsRepository.INSERT_EVENTS_NO_ROLLUPS_SQL', sql: INSERT_EVENTS_NO_ROLLUPS_SQL },
  'create-staging.sql': { what: 'EventsRepository.CREATE_STAGING_SQL', sql: CREATE_STAGING_SQL },
  'event-view-select.sql': { what: "the query API's SELECT list (EVENT_VIEW_SELECT)", sql: EVENT_VIEW_SELECT },
};

// The query API's statements, as its repositories build them for one representative question each.
const { stats, events, take } = captureQuerySql(loadConfig({}));
const sourceId = '00000000-0000-4000-8000-000000000001';
const range = { from: new Date('2026-11-01T00:30:00Z'), to: new Date('2026-12-01T00:00:00Z') };
const BUILT: Record<string, { what: string; run: () => Promise<unknown> }> = {
  'query-events-by-user.sql': { what: 'EventsQueryRepository.find, filtered by userId', run: () => events.find({ sourceId, userId: 'u', limit: 101 }) },
  'query-receipt.sql': { what: 'EventsQueryRepository.receipt', run: () => events.receipt(sourceId, 'm') },
  'query-counts.sql': { what: 'StatsRepository.counts, hourly by event (rollup + raw edges)', run: () => stats.counts({ sourceId, range, interval: 'hour', tz: 'UTC', groupBy: 'event' }) },
  'query-uniques.sql': { what: 'StatsRepository.uniques, daily in UTC', run: () => stats.uniques({ sourceId, range, interval: 'day', tz: 'UTC' }) },
  'query-top-events.sql': { what: 'StatsRepository.topEvents', run: () => stats.topEvents({ sourceId, range, limit: 10 }) },
  'query-funnel.sql': { what: 'StatsRepository.funnel, 3 steps', run: () => stats.funnel({ sourceId, range, windowSeconds: 86400, steps: [{ event: 'a' }, { event: 'b' }, { event: 'c' }] }) },
  'query-retention.sql': { what: 'StatsRepository.retention, weekly', run: () => stats.retention({ sourceId, range, interval: 'week', periods: 8, tz: 'UTC', cohortEvent: 'a', returnEvent: 'b' }) },
};

async function snapshotOf(file: string): Promise<{ what: string; sql: string }> {
  if (FIXED[file]) return FIXED[file];
  const { what, run } = BUILT[file];
  return { what, sql: (await take(run)).map((c) => c.sql.replace(/\n\s+/g, '\n  ').trim()).join(';\n\n') };
}

describe('query snapshots', () => {
  it.each([...Object.keys(FIXED), ...Object.keys(BUILT)])('src/queries/%s matches the code', async (file) => {
    const { what, sql } = await snapshotOf(file);
    const path = join(__dirname, '..', 'queries', file);
    if (process.env.SQL_SNAPSHOTS === 'update') writeFileSync(path, `-- Generated snapshot of ${what} (a unit test keeps it in step).\n${sql.trim()}\n`);
    const text = readFileSync(path, 'utf8');
    expect(text.split('\n').slice(1).join('\n').trim()).toBe(sql.trim());
  });
});
