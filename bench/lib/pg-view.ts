import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { toEventRow, EventRow } from '../../src/processing/enrichment';
import { EVENT_COLUMNS, sdkEvent } from './events';
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

/** The worker's statement, as snapshotted next to the code (src/queries/insert-events.sql; a unit test keeps it in step). */
export function sluiceInsertSql(): string {
  return readFileSync(join(ROOT, 'src', 'queries', 'insert-events.sql'), 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('--'))
    .join('\n');
}

const RECORDSET = `json_to_recordset($1::json) AS r(
    idx int, source_id uuid, message_id text, type text, event text, name text, user_id text,
    anonymous_id text, group_id text, previous_id text, "timestamp" timestamptz,
    original_timestamp timestamptz, sent_at timestamptz, received_at timestamptz,
    properties jsonb, traits jsonb, context jsonb, integrations jsonb, extra jsonb)`;
const COLS = EVENT_COLUMNS.map((c) => `"${c}"`).join(', ');

export interface StatementTiming {
  what: string;
  medianMs: number;
  usPerRow: number;
}

export interface StatementBreakdown {
  rowsPerStatement: number;
  iterations: number;
  /** Node-side cost of building the worker's JSON parameter (JSON.stringify of the rows) */
  stringifyUsPerRow: number;
  statements: StatementTiming[];
  /** EXPLAIN (ANALYZE, BUFFERS, WAL) of the worker's statement, rolled back */
  explain: { node: string; actualMs: number; rows: number; walBytes?: number }[];
  explainExecutionMs: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/**
 * Where a job's insert spends its time inside PostgreSQL: the same rows (fresh ids each time)
 * written sequentially on one connection, each statement committed (synchronous_commit as
 * configured), by plain COPY (the baseline's method), by the worker's unpacking without dedup,
 * by the dedup claim alone, by the worker's full statement, and by two alternatives to it.
 */
export async function statementBreakdown(
  dbUrl: string,
  rowsPerStatement = 500,
  iterations = 12,
): Promise<StatementBreakdown> {
  const now = Date.now();
  const receivedAt = new Date(now).toISOString();
  const baseRows = Array.from({ length: rowsPerStatement }, (_, i) =>
    toEventRow({
      s: '',
      t: receivedAt,
      ip: '127.0.0.1',
      r: 'bench-pg',
      e: { ...sdkEvent(i, now), sentAt: receivedAt },
    }),
  );
  const fresh = (): EventRow[] => {
    const sourceId = randomUUID();
    return baseRows.map((r, i) => ({
      ...r,
      source_id: sourceId,
      message_id: `pg-${randomUUID()}-${i}`,
    }));
  };
  const asJson = (rows: EventRow[]) => JSON.stringify(rows.map((r, idx) => ({ idx, ...r })));
  const asCopy = (rows: EventRow[]) =>
    rows
      .map((r) =>
        EVENT_COLUMNS.map((c) => {
          const v = r[c];
          if (v === null || v === undefined) return '\\N';
          const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
          return s.replace(/[\\\t\n\r]/g, (ch) =>
            ch === '\\' ? '\\\\' : ch === '\t' ? '\\t' : ch === '\n' ? '\\n' : '\\r',
          );
        }).join('\t'),
      )
      .join('\n') + '\n';

  const sluiceSql = sluiceInsertSql();
  const jsonbSql = sluiceSql.replace('json_to_recordset($1::json)', 'jsonb_to_recordset($1::jsonb)');
  const stageSql = `
    WITH uniq AS (
      SELECT DISTINCT ON (source_id, message_id) * FROM bench_stage ORDER BY source_id, message_id, ctid
    ), claimed AS (
      INSERT INTO event_dedup (source_id, message_id) SELECT source_id, message_id FROM uniq
      ON CONFLICT DO NOTHING RETURNING source_id, message_id
    )
    INSERT INTO events (${COLS}) SELECT ${EVENT_COLUMNS.map((col) => `u."${col}"`).join(', ')}
    FROM uniq u JOIN claimed c USING (source_id, message_id)`;
  const copy = (c: Client, table: string, rows: EventRow[]) => pipeline(Readable.from([Buffer.from(asCopy(rows))]), c.query(copyFrom(`COPY ${table} (${COLS}) FROM STDIN`)));
  const variants: { what: string; run: (c: Client, rows: EventRow[]) => Promise<unknown> }[] = [
    { what: 'COPY into events (the baseline; no dedup)', run: (c, rows) => copy(c, 'events', rows) },
    {
      what: 'INSERT ... SELECT FROM json_to_recordset (no dedup)',
      run: (c, rows) => c.query(`INSERT INTO events (${COLS}) SELECT ${COLS} FROM ${RECORDSET}`, [asJson(rows)]),
    },
    {
      what: 'dedup claim only (2 columns of json_to_recordset)',
      run: (c, rows) =>
        c.query(`INSERT INTO event_dedup (source_id, message_id) SELECT source_id, message_id FROM json_to_recordset($1::json) AS r(source_id uuid, message_id text) ON CONFLICT DO NOTHING`, [asJson(rows)]),
    },
    { what: "Sluice's statement (json_to_recordset + dedup + insert)", run: (c, rows) => c.query(sluiceSql, [asJson(rows)]) },
    { what: 'the same with jsonb_to_recordset($1::jsonb)', run: (c, rows) => c.query(jsonbSql, [asJson(rows)]) },
    {
      what: 'COPY into a temp table, then the same dedup + insert (1 transaction)',
      run: async (c, rows) => {
        await c.query('BEGIN');
        try {
          await copy(c, 'bench_stage', rows);
          await c.query(stageSql);
          await c.query('COMMIT');
        } catch (err) {
          await c.query('ROLLBACK');
          throw err;
        }
      },
    },
  ];

  return withClient(dbUrl, async (c) => {
    await c.query(`CREATE TEMP TABLE bench_stage (LIKE events) ON COMMIT DELETE ROWS`);
    const times = new Map<string, number[]>();
    for (let i = 0; i < iterations; i++) {
      for (const v of variants) {
        const rows = fresh();
        const t0 = process.hrtime.bigint();
        await v.run(c, rows);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (i > 0) times.set(v.what, [...(times.get(v.what) ?? []), ms]); // first round warms up
      }
    }
    const rows = fresh();
    const s0 = process.hrtime.bigint();
    for (let i = 0; i < 20; i++) asJson(rows);
    const stringifyUsPerRow = Number(process.hrtime.bigint() - s0) / 1e3 / 20 / rowsPerStatement;

    await c.query('BEGIN');
    let plan: any;
    try {
      const res = await c.query(`EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) ${sluiceSql}`, [
        asJson(fresh()),
      ]);
      plan = res.rows[0]['QUERY PLAN'][0];
    } finally {
      await c.query('ROLLBACK');
    }
    const explain: StatementBreakdown['explain'] = [];
    const walk = (n: any, depth: number) => {
      const label = `${'  '.repeat(depth)}${n['Node Type']}${n['Relation Name'] ? ` on ${n['Relation Name']}` : ''}${n['CTE Name'] ? ` (${n['CTE Name']})` : ''}${n['Subplan Name'] ? ` [${n['Subplan Name']}]` : ''}`;
      explain.push({
        node: label,
        actualMs: Math.round(n['Actual Total Time'] * 100) / 100,
        rows: n['Actual Rows'],
        walBytes: n['WAL Bytes'],
      });
      for (const child of n.Plans ?? []) walk(child, depth + 1);
    };
    walk(plan.Plan, 0);

    return {
      rowsPerStatement,
      iterations: iterations - 1,
      stringifyUsPerRow: Math.round(stringifyUsPerRow * 10) / 10,
      statements: variants.map((v) => {
        const m = median(times.get(v.what) ?? [0]);
        return {
          what: v.what,
          medianMs: Math.round(m * 100) / 100,
          usPerRow: Math.round((m * 1000) / rowsPerStatement),
        };
      }),
      explain,
      explainExecutionMs: Math.round(plan['Execution Time'] * 100) / 100,
    };
  });
}
