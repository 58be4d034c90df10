import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { EVENT_COLUMN_LIST, EVENT_COLUMNS, EventRow, sqlIdent } from '../../src/domain/events/event-columns';
import { copyFields } from '../../src/domain/events/copy-format';
import { toEventRow } from '../../src/domain/events/enrichment';
import { sdkEvent } from './events';
import { ROOT, withClient } from './stack';

/**
 * Cumulative PostgreSQL counters; diff two snapshots to see what a phase cost the database.
 * WAL is read from the insert position (exact, immediate, but server-wide): the pg_stat_*
 * views lag behind because backends flush their statistics up to 10 s late when idle.
 */
export interface PgCounters {
  walBytes: number;
  checkpoints: number;
}

export async function pgCounters(c: Client): Promise<PgCounters> {
  const { rows } = await c.query(
    `SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::float8 AS wal,
            (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter)::int AS checkpoints`,
  );
  return { walBytes: Number(rows[0].wal), checkpoints: Number(rows[0].checkpoints) };
}

export function pgDelta(a: PgCounters, b: PgCounters): PgCounters {
  return { walBytes: b.walBytes - a.walBytes, checkpoints: b.checkpoints - a.checkpoints };
}

/** The PIDs of PostgreSQL's processes that work for this run: its database's backends and the server's own background processes. */
export async function pgPids(c: Client, dbName: string): Promise<number[]> {
  const { rows } = await c.query(
    `SELECT pid FROM pg_stat_activity WHERE (datname = $1 OR datname IS NULL) AND pid <> pg_backend_pid()`,
    [dbName],
  );
  return rows.map((r: { pid: number }) => r.pid);
}

const RECORDSET = `json_to_recordset($1::json) AS r(idx int, ${EVENT_COLUMNS.map((c) => `${sqlIdent(c.name)} ${c.type}`).join(', ')})`;
const COLS = EVENT_COLUMN_LIST;
const U_COLS = EVENT_COLUMNS.map((c) => `u.${sqlIdent(c.name)}`).join(', ');

export interface StatementTiming {
  what: string;
  medianMs: number;
  usPerRow: number;
}

export interface ExplainNode {
  node: string;
  actualMs: number;
  rows: number;
  walBytes?: number;
}

export interface StatementBreakdown {
  rowsPerStatement: number;
  iterations: number;
  statements: StatementTiming[];
  /** EXPLAIN (ANALYZE, BUFFERS, WAL), rolled back, of the two set-based write statements */
  explain: { what: string; executionMs: number; nodes: ExplainNode[] }[];
  notes: string[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/** The statement the worker ran before 84ada6b: rows as one JSON parameter, unpacked, deduplicated and inserted at once. */
const JSON_WRITE_SQL = `
WITH input AS (SELECT * FROM ${RECORDSET}),
uniq AS (SELECT DISTINCT ON (source_id, message_id) * FROM input ORDER BY source_id, message_id, idx),
claimed AS (
  INSERT INTO event_dedup (source_id, message_id) SELECT source_id, message_id FROM uniq
  ON CONFLICT DO NOTHING RETURNING source_id, message_id
)
INSERT INTO events (${COLS}) SELECT ${U_COLS}
FROM uniq u JOIN claimed c USING (source_id, message_id)`;

/** The same dedup + insert, from a staging table the rows were COPYed into. */
const STAGED_WRITE_SQL = `
WITH uniq AS (SELECT DISTINCT ON (source_id, message_id) * FROM bench_stage ORDER BY source_id, message_id, ctid),
claimed AS (
  INSERT INTO event_dedup (source_id, message_id) SELECT source_id, message_id FROM uniq
  ON CONFLICT DO NOTHING RETURNING source_id, message_id
)
INSERT INTO events (${COLS}) SELECT ${U_COLS}
FROM uniq u JOIN claimed c USING (source_id, message_id)`;

/**
 * Sluice's own write path as built (dist/processing/events.repository.js), on its own TypeORM
 * DataSource, so the breakdown follows the code whatever its SQL is; null when it cannot be
 * loaded (the build changed shape).
 */
async function sluiceWritePath(dbUrl: string): Promise<{ insert: (rows: EventRow[]) => Promise<number>; close: () => Promise<void> } | { error: string }> {
  try {
    await import('reflect-metadata');
    const { loadConfig } = (await import(join(ROOT, 'dist', 'config', 'index.js'))) as { loadConfig: (env: Record<string, string>) => unknown };
    const { dataSourceOptions } = (await import(join(ROOT, 'dist', 'database', 'data-source-options.js'))) as { dataSourceOptions: (c: unknown, o: object) => object };
    const { EventsRepository } = (await import(join(ROOT, 'dist', 'processing', 'events.repository.js'))) as {
      EventsRepository: new (ds: unknown, config: unknown) => { insertDeduplicated: (rows: EventRow[]) => Promise<number> };
    };
    const { DataSource } = await import('typeorm');
    const config = loadConfig({ DATABASE_URL: dbUrl, ROLE: 'worker', NODE_ENV: 'production', LOG_LEVEL: 'error' });
    const ds = new DataSource(dataSourceOptions(config, { poolSize: 1, applicationName: 'sluice-bench-breakdown' }) as ConstructorParameters<typeof DataSource>[0]);
    await ds.initialize();
    const repo = new EventsRepository(ds, config);
    return { insert: (rows) => repo.insertDeduplicated(rows), close: () => ds.destroy() };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/**
 * Where a job's write spends its time in PostgreSQL: the same 500 rows (fresh ids each time)
 * written sequentially on one connection and committed (synchronous_commit as configured), by
 * plain COPY (the baseline's method), by set-based alternatives with and without the dedup
 * claim, and by Sluice's own write path as built. Client-side timings, Node-side preparation of
 * each variant's payload included.
 */
export async function statementBreakdown(dbUrl: string, rowsPerStatement = 500, iterations = 12): Promise<StatementBreakdown> {
  const now = Date.now();
  const receivedAt = new Date(now).toISOString();
  const baseRows = Array.from({ length: rowsPerStatement }, (_, i) => toEventRow({ s: '', t: receivedAt, ip: '127.0.0.1', r: 'bench-pg', e: { ...sdkEvent(i, now), sentAt: receivedAt } }));
  const fresh = (): EventRow[] => {
    const sourceId = randomUUID();
    return baseRows.map((r, i) => ({ ...r, source_id: sourceId, message_id: `pg-${randomUUID()}-${i}` }));
  };
  const asJson = (rows: EventRow[]) => JSON.stringify(rows.map((r, idx) => ({ idx, ...r })));
  const asCopy = (rows: EventRow[]) => rows.map((r) => copyFields(r)).join('\n') + '\n';
  const copy = (c: Client, table: string, rows: EventRow[]) => pipeline(Readable.from([Buffer.from(asCopy(rows))]), c.query(copyFrom(`COPY ${table} (${COLS}) FROM STDIN`)));
  const inTransaction = async (c: Client, fn: () => Promise<unknown>) => {
    await c.query('BEGIN');
    try {
      await fn();
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK');
      throw err;
    }
  };
  const notes: string[] = [];
  const sluice = await sluiceWritePath(dbUrl);
  if ('error' in sluice) notes.push(`Sluice's write path could not be loaded from dist/: ${sluice.error}`);

  const variants: { what: string; run: (c: Client, rows: EventRow[]) => Promise<unknown> }[] = [
    { what: 'COPY into events (the baseline; no dedup)', run: (c, rows) => copy(c, 'events', rows) },
    { what: 'INSERT ... SELECT FROM json_to_recordset($1::json) (no dedup)', run: (c, rows) => c.query(`INSERT INTO events (${COLS}) SELECT ${COLS} FROM ${RECORDSET}`, [asJson(rows)]) },
    { what: 'json_to_recordset + dedup claim + insert, one statement (before 84ada6b)', run: (c, rows) => c.query(JSON_WRITE_SQL, [asJson(rows)]) },
    { what: 'the same with jsonb_to_recordset($1::jsonb)', run: (c, rows) => c.query(JSON_WRITE_SQL.replace('json_to_recordset($1::json)', 'jsonb_to_recordset($1::jsonb)'), [asJson(rows)]) },
    { what: 'COPY into a temp table, then dedup claim + insert (1 transaction)', run: (c, rows) => inTransaction(c, async () => { await copy(c, 'bench_stage', rows); await c.query(STAGED_WRITE_SQL); }) },
    {
      what: 'claim ids (unnest of 2 arrays), then COPY the claimed rows (1 transaction)',
      run: (c, rows) =>
        inTransaction(c, async () => {
          const { rows: claimed } = await c.query(
            `INSERT INTO event_dedup (source_id, message_id) SELECT DISTINCT s, m FROM unnest($1::uuid[], $2::text[]) AS t(s, m) ON CONFLICT DO NOTHING RETURNING message_id`,
            [rows.map((r) => r.source_id), rows.map((r) => r.message_id)],
          );
          const won = new Set(claimed.map((r: { message_id: string }) => r.message_id));
          const seen = new Set<string>();
          const firsts = rows.filter((r) => won.has(r.message_id) && !seen.has(r.message_id) && seen.add(r.message_id));
          if (firsts.length) await copy(c, 'events', firsts);
        }),
    },
  ];
  if (!('error' in sluice)) variants.push({ what: "Sluice's write path as built (EventsRepository.insertDeduplicated)", run: (_c, rows) => sluice.insert(rows) });

  try {
    return await withClient(dbUrl, async (c) => {
      await c.query(`CREATE TEMP TABLE bench_stage (LIKE events) ON COMMIT DELETE ROWS`);
      const times = new Map<string, number[]>();
      for (let i = 0; i < iterations; i++) {
        for (const v of variants) {
          const rows = fresh();
          const t0 = process.hrtime.bigint();
          await v.run(c, rows);
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          if (i > 0) times.set(v.what, [...(times.get(v.what) ?? []), ms]); // the first round warms up
        }
      }

      const explain: StatementBreakdown['explain'] = [];
      const plan = async (what: string, before: () => Promise<unknown>, sql: string, params: unknown[]) => {
        await c.query('BEGIN');
        try {
          await before();
          const res = await c.query(`EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) ${sql}`, params);
          const top = res.rows[0]['QUERY PLAN'][0];
          const nodes: ExplainNode[] = [];
          const walk = (n: any, depth: number) => {
            const label = `${'  '.repeat(depth)}${n['Node Type']}${n['Relation Name'] ? ` on ${n['Relation Name']}` : ''}${n['CTE Name'] ? ` (${n['CTE Name']})` : ''}${n['Subplan Name'] ? ` [${n['Subplan Name']}]` : ''}`;
            nodes.push({ node: label, actualMs: Math.round(n['Actual Total Time'] * 100) / 100, rows: n['Actual Rows'], walBytes: n['WAL Bytes'] });
            for (const child of n.Plans ?? []) walk(child, depth + 1);
          };
          walk(top.Plan, 0);
          explain.push({ what, executionMs: Math.round(top['Execution Time'] * 100) / 100, nodes });
        } finally {
          await c.query('ROLLBACK');
        }
      };
      const rows = fresh();
      await plan('json_to_recordset + dedup claim + insert (before 84ada6b)', async () => undefined, JSON_WRITE_SQL, [asJson(rows)]);
      await plan('dedup claim + insert from a COPYed staging table', () => copy(c, 'bench_stage', fresh()), STAGED_WRITE_SQL, []);

      return {
        rowsPerStatement,
        iterations: iterations - 1,
        statements: variants.map((v) => {
          const m = median(times.get(v.what) ?? [0]);
          return { what: v.what, medianMs: Math.round(m * 100) / 100, usPerRow: Math.round((m * 1000) / rowsPerStatement) };
        }),
        explain,
        notes,
      };
    });
  } finally {
    if (!('error' in sluice)) await sluice.close();
  }
}
