import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { Client } from 'pg';
import { redisInfo, ROOT } from './stack';

export interface Machine {
  timestamp: string;
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  os: string;
  node: string;
  postgres: string;
  postgresSettings: Record<string, string>;
  redis: string;
  redisAof: boolean;
  redisAppendfsync: string;
  redisDurability: string;
  gitCommit: string | null;
  /** files under src/ differ from the commit (the build measured is not exactly gitCommit) */
  gitSrcDirty: boolean | null;
  loadAverageAtStart: number[];
  loadAverageAtEnd?: number[];
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

export async function machineInfo(monitor: Client, durability: string): Promise<Machine> {
  const cpus = os.cpus();
  const settings: Record<string, string> = {};
  for (const name of ['fsync', 'synchronous_commit', 'wal_level', 'shared_buffers', 'max_wal_size', 'checkpoint_timeout', 'work_mem', 'full_page_writes', 'wal_compression']) {
    settings[name] = (await monitor.query(`SELECT current_setting($1) AS v`, [name])).rows[0].v;
  }
  const redis = await redisInfo();
  const status = git(['status', '--porcelain', '--', 'src']);
  return {
    timestamp: new Date().toISOString(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? '?',
    memoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    postgres: (await monitor.query('SHOW server_version')).rows[0].server_version,
    postgresSettings: settings,
    redis: redis.version,
    redisAof: redis.aof,
    redisAppendfsync: redis.appendfsync,
    redisDurability: durability,
    gitCommit: git(['rev-parse', 'HEAD']),
    gitSrcDirty: status === null ? null : status.length > 0,
    loadAverageAtStart: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
}

export interface Row {
  scenario: string;
  figure: string;
  value: number | null;
  unit: string;
  baseline: number | null;
  baselineLabel: string;
  ratio: number | null;
  target: string;
  pass: boolean | null;
}

const fmt = (v: number | null, unit = ''): string => {
  if (v === null || Number.isNaN(v)) return '-';
  const abs = Math.abs(v);
  const s = abs >= 1000 ? Math.round(v).toLocaleString('en-US') : abs >= 100 ? v.toFixed(0) : abs >= 10 ? v.toFixed(1) : v.toFixed(2);
  return unit ? `${s} ${unit}` : s;
};

export function printTable(rows: Row[], extra: string[] = []): string {
  const header = ['scenario', 'figure', 'Sluice', 'baseline', 'ratio', 'target', 'result'];
  const body = rows.map((r) => [
    r.scenario,
    r.figure,
    r.value === null && r.unit.startsWith('n/a') ? r.unit : fmt(r.value, r.unit),
    r.baseline === null ? (r.baselineLabel || '-') : `${fmt(r.baseline, r.unit)} ${r.baselineLabel}`.trim(),
    r.ratio === null ? '-' : `${r.ratio.toFixed(2)}x`,
    r.target || '-',
    r.pass === null ? '-' : r.pass ? 'PASS' : 'FAIL',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  const out = [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line), ...extra].join('\n');
  return out;
}

/** A plain table for the per-component CPU figures. */
export function printGrid(header: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (cs: string[]) => `| ${cs.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}
