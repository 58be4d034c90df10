import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';

/** The repository root (bench/lib/../..): dist/ and src/ are read from here. */
export const ROOT = resolve(__dirname, '..', '..');

export const BASE_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export let REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * `--redis-fsync`: a private redis-server with `appendonly yes` and `appendfsync always` (what
 * REDIS_DURABILITY=fsync needs), used by the whole run instead of REDIS_URL.
 */
export async function startFsyncRedis(dir: string): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction', '--dir', dir], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const stop = () => new Promise<void>((res) => (proc.exitCode !== null ? res() : (proc.once('exit', () => res()), proc.kill('SIGTERM'))));
  for (const deadline = Date.now() + 10_000; ; ) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`redis-server on port ${port} did not start`);
      }
      await sleep(50);
    } finally {
      probe.disconnect();
    }
  }
  REDIS_URL = url;
  return { url, stop };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function databaseUrl(name: string): string {
  const url = new URL(BASE_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url, application_name: 'sluice-bench' });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** An empty database, or a file copy of `template` (which nobody may be connected to). */
export async function createDatabase(name: string, template?: string): Promise<void> {
  await withClient(databaseUrl('postgres'), (c) => c.query(template ? `CREATE DATABASE "${name}" TEMPLATE "${template}" STRATEGY FILE_COPY` : `CREATE DATABASE "${name}"`));
}

export async function dropDatabase(name: string): Promise<void> {
  await withClient(databaseUrl('postgres'), (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/** Deletes every Redis key under the run's prefix. */
export async function deleteRedisPrefix(prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

export async function redisInfo(): Promise<{ version: string; pid: number; aof: boolean; appendfsync: string }> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const info = await redis.info('server');
    const persistence = await redis.info('persistence');
    const appendfsync = ((await redis.config('GET', 'appendfsync').catch(() => [])) as string[])[1] ?? '?';
    return {
      appendfsync,
      version: /redis_version:(\S+)/.exec(info)?.[1] ?? '?',
      pid: Number(/process_id:(\d+)/.exec(info)?.[1] ?? 0),
      aof: /aof_enabled:1/.test(persistence),
    };
  } finally {
    redis.disconnect();
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolvePort(port));
    });
  });
}

export const randomToken = (chars = 32) => randomBytes(chars).toString('base64url').slice(0, chars);

/** A child process the harness owns: logs to a file, and remembers how (and when) it ended. */
export class Managed {
  readonly child: ChildProcess;
  exit: { code: number | null; signal: string | null; at: number } | null = null;
  private expectedExit = false;
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    readonly logFile: string,
    readonly url: string,
  ) {
    const log = createWriteStream(logFile);
    this.child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.pipe(log, { end: false });
    this.child.stderr?.pipe(log, { end: false });
    this.exited = new Promise((done) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal, at: Date.now() };
        setTimeout(() => log.end(), 50);
        done();
      });
    });
  }

  get pid(): number | undefined {
    return this.exit ? undefined : this.child.pid;
  }

  /** Set when the process ended without being asked to. */
  get crashed(): string | null {
    if (!this.exit || this.expectedExit) return null;
    return `${this.name} exited unexpectedly (code ${this.exit.code}, signal ${this.exit.signal}); log tail:\n${this.logTail()}`;
  }

  logTail(lines = 25): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** SIGTERM (graceful drain; the CPU profile is written on exit), then SIGKILL after graceMs. */
  async stop(graceMs = 15_000): Promise<void> {
    this.expectedExit = true;
    if (this.exit) return;
    this.child.kill('SIGTERM');
    const killed = await Promise.race([this.exited.then(() => false), sleep(graceMs).then(() => true)]);
    if (killed && !this.exit) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

/** Polls GET {url}/health/ready until it answers 200. */
export async function waitReady(p: Managed, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (p.exit) throw new Error(p.crashed ?? `${p.name} exited during start-up`);
    try {
      const res = await fetch(`${p.url}/health/ready`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`${p.name} not ready after ${timeoutMs} ms (${last}); log tail:\n${p.logTail()}`);
}

/** Runs `node dist/database/migrate.js` against the run's database. */
export function migrate(env: NodeJS.ProcessEnv): Promise<string> {
  const script = join(ROOT, 'dist', 'database', 'migrate.js');
  if (!existsSync(script)) throw new Error(`${script} is missing: run "npm run build" (npm run bench does)`);
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, [script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('exit', (code) => (code === 0 ? done(out.trim()) : reject(new Error(`migration failed (exit ${code}):\n${out}`))));
  });
}

export interface SourceCredentials {
  id: string;
  writeKey: string;
}

async function post(url: string, bearer: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = { raw: text };
  }
  return { status: res.status, json };
}

/**
 * Credentials as a user gets them: the ADMIN_TOKEN bootstraps an admin key
 * (POST /v1/admin/keys; the token may create admin keys only), and the admin key creates
 * sources (POST /v1/admin/sources), each with its write key.
 */
export async function credentials(apiUrl: string, adminToken: string): Promise<{ adminKey: string; adminKeyId: string; createSource: (name: string) => Promise<SourceCredentials> }> {
  const key = await post(`${apiUrl}/v1/admin/keys`, adminToken, { kind: 'admin', name: 'bench' });
  if (key.status !== 201 || typeof key.json?.key !== 'string') {
    throw new Error(`POST /v1/admin/keys with the ADMIN_TOKEN answered ${key.status}: ${JSON.stringify(key.json)}`);
  }
  const adminKey: string = key.json.key;
  return {
    adminKey,
    adminKeyId: String(key.json.keyId ?? key.json.id),
    createSource: async (name: string) => {
      const src = await post(`${apiUrl}/v1/admin/sources`, adminKey, { name });
      if (src.status !== 201 || typeof src.json?.writeKey !== 'string' || typeof src.json?.id !== 'string') {
        throw new Error(`POST /v1/admin/sources with the admin key answered ${src.status}: ${JSON.stringify(src.json)}`);
      }
      return { id: src.json.id, writeKey: src.json.writeKey };
    },
  };
}
