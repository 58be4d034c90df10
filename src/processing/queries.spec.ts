import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_VIEW_SELECT } from '../query/events-query.repository';
import { CREATE_STAGING_SQL, INSERT_EVENTS_NO_ROLLUPS_SQL, INSERT_EVENTS_SQL } from './events.repository';

// The hot queries are snapshotted in src/queries/*.sql so that a change to them, or to the
// column list they are derived from, shows up in review. To accept a change:
//   SQL_SNAPSHOTS=update npx jest --selectProjects unit src/processing/queries.spec.ts
const SNAPSHOTS: Record<string, { what: string; sql: string }> = {
  'insert-events.sql': { what: 'EventsRepository.INSERT_EVENTS_SQL', sql: INSERT_EVENTS_SQL },
  'insert-events-no-rollups.sql': { what: 'EventsRepository.INSERT_EVENTS_NO_ROLLUPS_SQL', sql: INSERT_EVENTS_NO_ROLLUPS_SQL },
  'create-staging.sql': { what: 'EventsRepository.CREATE_STAGING_SQL', sql: CREATE_STAGING_SQL },
  'event-view-select.sql': { what: "the query API's SELECT list (EVENT_VIEW_SELECT)", sql: EVENT_VIEW_SELECT },
};

describe('query snapshots', () => {
  it.each(Object.entries(SNAPSHOTS))('src/queries/%s matches the code', (file, { what, sql }) => {
    const path = join(__dirname, '..', 'queries', file);
    if (process.env.SQL_SNAPSHOTS === 'update') writeFileSync(path, `-- Generated snapshot of ${what} (a unit test keeps it in step).\n${sql.trim()}\n`);
    const text = readFileSync(path, 'utf8');
    expect(text.split('\n').slice(1).join('\n').trim()).toBe(sql.trim());
  });
});
