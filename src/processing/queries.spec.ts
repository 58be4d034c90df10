import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INSERT_EVENTS_SQL } from './events.repository';

// The hot query is snapshotted so that any change to it shows up in review.
describe('query snapshots', () => {
  it('src/queries/insert-events.sql matches EventsRepository', () => {
    const file = readFileSync(join(__dirname, '..', 'queries', 'insert-events.sql'), 'utf8');
    expect(file.split('\n').slice(1).join('\n').trim()).toBe(INSERT_EVENTS_SQL.trim());
  });
});
