/**
 * `npm run bench:explain [-- --database sluice_seed_10000000]`: the query API's statements, built
 * by its own repositories for the questions `npm run bench -- queries` asks, run under
 * EXPLAIN (ANALYZE, BUFFERS) on a seeded database (npm run seed). Prints Markdown: the plans in
 * docs/queries.md come from here.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { loadConfig } from '../src/config';
import { captureQuerySql } from '../src/query/sql-capture';
import { databaseUrl } from './lib/stack';

const DAY = 86_400_000;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { database: { type: 'string', default: 'sluice_seed_10000000' }, full: { type: 'boolean', default: false } } });
  const db = new Client({ connectionString: databaseUrl(values.database!) });
  await db.connect();
  try {
    const [{ id: sourceId }] = (await db.query<{ id: string }>(`SELECT id FROM sources WHERE name = 'seed-1'`)).rows;
    const [{ hi }] = (await db.query<{ hi: Date }>(`SELECT max(hour) + interval '1 hour' AS hi FROM event_counts_hourly WHERE source_id = $1`, [sourceId])).rows;
    const to = new Date(Math.floor(hi.getTime() / DAY) * DAY); // whole days, as bench/queries.ts asks
    const [{ u: user }] = (await db.query<{ u: string }>(`SELECT user_id AS u FROM events WHERE source_id = $1 AND user_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC OFFSET 100 LIMIT 1`, [sourceId])).rows;
    const { stats, events, take } = captureQuerySql(loadConfig({}));
    const d30 = { from: new Date(to.getTime() - 30 * DAY), to };
    const questions: [string, () => Promise<unknown>][] = [
      [`events filtered by user (${user}), 100 newest`, () => events.find({ sourceId, userId: user, limit: 101 })],
      ['receipt of one event', () => events.receipt(sourceId, 'seed-0-12345')],
      ['hourly counts, 30 days, by event', () => stats.counts({ sourceId, range: d30, interval: 'hour', tz: 'UTC', groupBy: 'event' })],
      ['daily uniques, 30 days', () => stats.uniques({ sourceId, range: d30, interval: 'day', tz: 'UTC' })],
      ['top events, 30 days', () => stats.topEvents({ sourceId, range: d30, limit: 10 })],
      ['3-step funnel, 7 days', () => stats.funnel({ sourceId, range: { from: new Date(to.getTime() - 7 * DAY), to }, windowSeconds: DAY / 1000, steps: [{ event: 'Product Viewed' }, { event: 'Product Added' }, { event: 'Order Completed' }] })],
      ['8-week retention', () => stats.retention({ sourceId, range: { from: new Date(to.getTime() - 56 * DAY), to }, interval: 'week', periods: 8, tz: 'UTC', cohortEvent: 'Signed Up', returnEvent: 'Logged In' })],
    ];
    const [{ n }] = (await db.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows;
    console.log(`Database ${values.database}: ${Number(n).toLocaleString('en-US')} events; source seed-1; range ends ${to.toISOString()}.\n`);
    for (const [name, run] of questions) {
      for (const [i, { sql, params }] of (await take(run)).entries()) {
        await db.query('SELECT 1'); // keep the connection warm between plans
        const plan = (await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params)).rows.map((r) => r['QUERY PLAN']);
        // The key lines: the top of the plan, each node that reads a table or an index (partitions
        // folded into a count), and the times.
        const scans = plan.filter((l) => /Scan (using \S+ )?on (?!events_\d{8}|events_default)/.test(l));
        const partitions = plan.filter((l) => / on events_\d{8}/.test(l) && /Scan/.test(l));
        const kinds = [...new Set(partitions.map((l) => l.trim().replace(/^->\s*/, '').replace(/ using events_\d{8}_/, ' using <partition>_').replace(/ on events_\d{8}.*$/, '')))];
        const lines = values.full
          ? plan
          : [
              ...plan.slice(0, 1),
              ...scans.map((l) => l.replace(/\s+\(cost=[^)]*\)/, '')),
              ...(partitions.length ? [`  ${partitions.length} daily partitions read by: ${kinds.join(', ')}`] : []),
              ...plan.filter((l) => /^(Planning|Execution) Time/.test(l)),
            ];
        console.log(`### ${name}${i ? ` (statement ${i + 1})` : ''}\n\n\`\`\`\n${lines.join('\n')}\n\`\`\`\n`);
      }
    }
  } finally {
    await db.end();
  }
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
