/**
 * Renders a bench result file as the Markdown that docs/performance.md quotes.
 *
 *   npx ts-node --transpile-only bench/markdown.ts bench/results/latest.json [--update docs/performance.md]
 *   npx ts-node --transpile-only bench/markdown.ts bench/results/profile.json [--update docs/performance.md]
 *
 * A full run renders as the `figures` block (table, CPU per event, Sluice's metrics, PostgreSQL
 * breakdown), a --profile run as the `profile` block (the CPU profiles). With --update, the text
 * between `<!-- bench:<block>:start -->` and `<!-- bench:<block>:end -->` in the given file is
 * replaced; otherwise the Markdown is printed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readableName } from './lib/profile';

type Json = any;

// Ratios as values (x COPY, x bare) need their digits: 0.275 and 0.269 are both "0.3" at one.
const digitsOf = (unit: string, v: number) => (unit === 's' || unit.startsWith('x ') ? 3 : v < 100 ? 1 : 0);

const n = (v: number | null | undefined, digits = 0): string => {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  return Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toFixed(digits);
};

function table(header: string[], rows: (string | number)[][], align: ('l' | 'r')[] = []): string {
  const sep = header.map((_, i) => ((align[i] ?? (i === 0 ? 'l' : 'r')) === 'r' ? '---:' : '---'));
  return [header, sep, ...rows.map((r) => r.map(String))].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export function render(report: Json): string {
  return report.profiled ? renderProfile(report) : renderFigures(report);
}

function machineLine(report: Json): string {
  const m = report.machine;
  return (
    `Run of ${m.timestamp.slice(0, 16).replace('T', ' ')} UTC, commit \`${String(m.gitCommit).slice(0, 7)}\`${m.gitSrcDirty ? ' (with uncommitted changes under src/)' : ''}: ` +
    `${m.cpus} × ${m.cpuModel}, ${Math.round(m.memoryBytes / 2 ** 30)} GiB, ${m.os}, Node ${m.node}, PostgreSQL ${m.postgres.split(' ')[0]} ` +
    `(fsync ${m.postgresSettings.fsync}, synchronous_commit ${m.postgresSettings.synchronous_commit}, shared_buffers ${m.postgresSettings.shared_buffers}, max_wal_size ${m.postgresSettings.max_wal_size}), ` +
    `Redis ${m.redis} (AOF ${m.redisAof ? `on, appendfsync ${m.redisAppendfsync}` : 'off'}, REDIS_DURABILITY=${m.redisDurability ?? '?'}); load average ${m.loadAverageAtStart[0]} at the start. Whole run: ${Math.round(report.durationSeconds)} s.`
  );
}

function renderProfile(report: Json): string {
  const out: string[] = [machineLine(report), ''];
  out.push(`Figures of this profiled run (\`node --cpu-prof\` slows both processes): ${report.table.filter((r: Json) => r.ratio !== null).map((r: Json) => `${r.scenario} ${r.ratio.toFixed(2)}×`).join(', ')}.`);
  const profiles = (report.profiles ?? {}) as Record<string, Record<string, Json>>;
  for (const [phase, byProc] of Object.entries(profiles)) {
    for (const [proc, s] of Object.entries(byProc)) {
      out.push('');
      out.push(`**${proc}, during \`${phase}\`** (${(s.busyMs / 1000).toFixed(1)} s on CPU in a ${s.windowSeconds} s window). Self time by package: ${s.byPackage.slice(0, 8).map((e: Json) => `${e.name} ${e.percent} %`).join(' · ')}.`);
      out.push('');
      out.push(table(['function (self time)', 'ms', '%'], s.topSelf.slice(0, 10).map((e: Json) => [`\`${readableName(e.name).replace(/\|/g, '\\|').slice(0, 90)}\``, n(e.ms), n(e.percent, 1)])));
    }
  }
  return out.join('\n');
}

function renderFigures(report: Json): string {
  const out: string[] = [];
  out.push(machineLine(report));
  out.push('');
  out.push(
    table(
      ['scenario', 'figure', 'Sluice', 'baseline', 'ratio', 'target', 'result'],
      report.table.map((r: Json) => [
        r.scenario,
        r.figure,
        r.value === null ? r.unit : `${n(r.value, digitsOf(r.unit, r.value))} ${r.unit}`,
        r.baseline === null ? '–' : `${n(r.baseline, digitsOf(r.unit, r.baseline))} ${r.unit} ${r.baselineLabel}`,
        r.ratio === null ? '–' : `**${r.ratio.toFixed(2)}×**`,
        r.target || '–',
        r.pass === null ? '–' : r.pass ? 'PASS' : 'FAIL',
      ]),
      ['l', 'l', 'r', 'r', 'r', 'l', 'l'],
    ),
  );
  const phases: Json[] = report.phases ?? [];
  if (phases.length) {
    out.push('');
    out.push('CPU per event in µs, by process, from `/proc/<pid>/stat` (per row for COPY; for bare Fastify, per event its requests carried). "machine busy" counts every process on both cores; "other" is what was not ours:');
    out.push('');
    out.push(
      table(
        ['phase', 'events', 'seconds', 'machine busy', 'api', 'worker', 'PostgreSQL', 'Redis', 'bare Fastify', 'load generator', 'other'],
        phases.map((p) => {
          const u = p.cpuUsPerEvent;
          return [p.name, n(p.events), p.seconds.toFixed(1), `${Math.round(p.machineBusy * 100)} %`, n(u.api, 1), n(u.worker, 1), n(u.postgres, 1), n(u.redis, 1), n(u.bare, 1), n(u.loadgen, 1), n(u.other, 1)];
        }),
      ),
    );
    const withSluice = phases.filter((p) => p.sluice);
    if (withSluice.length) {
      out.push('');
      out.push("From the api's and worker's `/metrics` over the same phases:");
      out.push('');
      out.push(
        table(
          ['phase', 'jobs (insert transactions)', 'events / job', 'write ms / job', 'writes in flight', 'enqueue ms', 'server p50 / p99 ms', 'lag p50 / p99 s', 'WAL bytes / event'],
          withSluice.map((p) => {
            const s = p.sluice;
            return [p.name, n(s.jobs), n(s.eventsPerJob), n(s.statementMsMean, 1), n(s.statementsInFlight, 2), n(s.enqueueMsMean, 1), `${n(s.serverMs.p50, 1)} / ${n(s.serverMs.p99, 1)}`, `${n(s.lagSeconds.p50, 3)} / ${n(s.lagSeconds.p99, 3)}`, n(p.pg.walBytes / Math.max(1, p.events))];
          }),
        ),
      );
    }
  }
  const b = report.results?.batch?.breakdown;
  if (b) {
    out.push('');
    out.push(`PostgreSQL alone: ${b.rowsPerStatement} rows per committed write, one connection, sequential, payload preparation in Node included (median of ${b.iterations}):`);
    out.push('');
    out.push(table(['write', 'ms', 'µs / row'], b.statements.map((s: Json) => [s.what, n(s.medianMs, 1), n(s.usPerRow)])));
    for (const e of b.explain ?? []) {
      out.push('');
      out.push(`EXPLAIN (ANALYZE, WAL) — ${e.what}: ${n(e.executionMs, 1)} ms`);
      out.push('');
      out.push('```');
      for (const node of e.nodes) out.push(`${node.node.padEnd(48)} ${n(node.actualMs, 2).padStart(7)} ms  ${node.rows} rows`);
      out.push('```');
    }
  }
  return out.join('\n');
}

function main(): void {
  const args = process.argv.slice(2);
  const updateAt = args.indexOf('--update');
  const target = updateAt >= 0 ? args[updateAt + 1] : null;
  const file = args.find((a, i) => !a.startsWith('--') && (updateAt < 0 || i !== updateAt + 1)) ?? join(__dirname, 'results', 'latest.json');
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const md = render(report);
  if (!target) {
    console.log(md);
    return;
  }
  const doc = readFileSync(target, 'utf8');
  const block = report.profiled ? 'profile' : 'figures';
  const start = `<!-- bench:${block}:start -->`;
  const end = `<!-- bench:${block}:end -->`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${target} has no ${start} ... ${end} block`);
  writeFileSync(target, `${doc.slice(0, i + start.length)}\n${md}\n${doc.slice(j)}`);
  console.log(`Updated the ${block} block of ${target} from ${file}.`);
}

main();
