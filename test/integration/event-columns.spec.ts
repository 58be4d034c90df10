import { EVENT_COLUMNS } from '../../src/domain/events/event-columns';
import { copyFields } from '../../src/domain/events/copy-format';
import { CREATE_STAGING_SQL } from '../../src/processing/events.repository';
import { withDb } from '../support/app';

// The one column list against the schema the migrations built: a column added to one and not
// the other (or in another order, which COPY and the staging table rely on) fails here.
describe('the stored-event columns', () => {
  const columnsOf = (table: string) =>
    withDb(async (db) =>
      (
        await db.query(
          `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable
             FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
          [table],
        )
      ).rows,
    );
  const pgType = { uuid: 'uuid', text: 'text', timestamptz: 'timestamp with time zone', jsonb: 'jsonb' } as const;

  it('EVENT_COLUMNS is exactly the migrated `events` table, in order, with types and nullability', async () => {
    expect(await columnsOf('events')).toEqual(EVENT_COLUMNS.map((c) => ({ name: c.name, type: pgType[c.type], nullable: c.nullable })));
  });

  it('every daily partition and the default partition have the same columns', async () => {
    const parts = await withDb(async (db) => (await db.query(`SELECT inhrelid::regclass::text AS name FROM pg_inherits WHERE inhparent = 'events'::regclass`)).rows);
    expect(parts.length).toBeGreaterThan(1);
    const expected = await columnsOf('events');
    for (const p of parts) expect({ p: p.name, cols: await columnsOf(p.name) }).toEqual({ p: p.name, cols: expected });
  });

  it('the staging table takes the COPY line as rendered: same columns, same order', async () => {
    await withDb(async (db) => {
      await db.query('BEGIN');
      await db.query(CREATE_STAGING_SQL.replace('ON COMMIT DELETE ROWS', 'ON COMMIT DROP'));
      const staged = (await db.query(`SELECT attname FROM pg_attribute WHERE attrelid = 'sluice_incoming'::regclass AND attnum > 0 ORDER BY attnum`)).rows;
      await db.query('ROLLBACK');
      expect(staged.map((r: { attname: string }) => r.attname)).toEqual(['idx', ...EVENT_COLUMNS.map((c) => c.name)]);
    });
  });

  it('copyFields renders each column in EVENT_COLUMNS order', () => {
    const row = Object.fromEntries(EVENT_COLUMNS.map((c, i) => [c.name, c.type === 'jsonb' ? { i } : `v${i}`]));
    const fields = copyFields(row as never).split('\t');
    expect(fields).toEqual(EVENT_COLUMNS.map((c, i) => (c.type === 'jsonb' ? JSON.stringify({ i }) : `v${i}`)));
  });
});
