import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { loadConfig } from '../../src/config';
import { runMigrations } from '../../src/database/migrator';

/** The PostgreSQL binaries of this machine (Debian's layout), newest version first. */
export function pgBin(tool: string): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(base, v, 'bin', tool))) return join(base, v, 'bin', tool);
  return tool;
}

/**
 * A throwaway PostgreSQL server a fault test may stop, crash and restart on the same port (the
 * shared one must stay up). As root, the server runs as the `postgres` user.
 */
export class PrivatePostgres {
  readonly dir: string;
  private readonly asUser: string[];

  constructor(readonly port: number) {
    this.dir = mkdtempSync(join(tmpdir(), 'sluice-pg-'));
    this.asUser = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/sluice_fault`;
  }

  private run(tool: string, args: string[]): void {
    const [cmd, ...rest] = [...this.asUser, pgBin(tool), ...args];
    const r = spawnSync(cmd, rest, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  }

  /** initdb, start, create and (unless `migrate: false`, an empty target for a restore) migrate the database. */
  async init({ migrate = true }: { migrate?: boolean } = {}): Promise<void> {
    if (this.asUser.length) {
      const pg = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      chownSync(this.dir, pg, gid);
      chmodSync(this.dir, 0o700);
    }
    this.run('initdb', ['-D', join(this.dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
    this.start();
    const admin = new Client({ connectionString: this.url.replace(/\/sluice_fault$/, '/postgres') });
    await admin.connect();
    await admin.query('CREATE DATABASE sluice_fault');
    await admin.end();
    if (migrate) await runMigrations(loadConfig({ DATABASE_URL: this.url, ROLE: 'all' }));
  }

  start(): void {
    const opts = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
    this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-o', opts, '-l', join(this.dir, 'log'), '-w', 'start']);
  }

  /** `immediate` is a crash (no shutdown checkpoint, clients cut at once). */
  stop(mode: 'immediate' | 'fast' = 'immediate'): void {
    this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-m', mode, '-w', 'stop']);
  }

  destroy(): void {
    try {
      this.stop('immediate');
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const c = new Client({ connectionString: this.url });
    await c.connect();
    try {
      return (await c.query(sql, params)).rows as T[];
    } finally {
      await c.end();
    }
  }
}
