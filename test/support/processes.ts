import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_TOKEN } from './app';
import { REDIS_URL, testDatabaseUrl, uniqueName } from './env';
import { freePort } from './redis-server';

const ROOT = join(__dirname, '..', '..');
export const MAIN = join(ROOT, 'dist', 'main.js');

export interface RoleProcess {
  role: string;
  port: number;
  url: string;
  proc: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** Starts `node dist/main.js` as ROLE=<role>, the way a Kubernetes pod runs it. */
export async function startRole(role: 'api' | 'worker', prefix: string, env: Record<string, string> = {}, waitFor: 'ready' | 'live' = 'ready'): Promise<RoleProcess> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first (npm test does).`);
  const port = await freePort();
  const proc = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      ROLE: role,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: testDatabaseUrl(),
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      ADMIN_TOKEN,
      LOG_LEVEL: 'warn',
      DATABASE_POOL_SIZE: '6',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-20_000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const rp: RoleProcess = { role, port, url: `http://127.0.0.1:${port}`, proc, output: () => out, exited };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${role} exited with ${proc.exitCode}:\n${out}`);
    try {
      if ((await fetch(`${rp.url}/health/${waitFor}`)).status === 200) return rp;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${role} not ready within 30 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function stopRole(p: RoleProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return p.proc.exitCode;
  p.proc.kill(signal);
  return p.exited;
}

/** A new source through a role process's HTTP API: the bootstrap token makes an admin key, which makes the source. */
export async function createSourceVia(api: RoleProcess, name = uniqueName('src')): Promise<{ id: string; writeKey: string }> {
  const admin = await fetch(`${api.url}/v1/admin/keys`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ kind: 'admin', name: 'test-admin' }),
  });
  if (admin.status !== 201) throw new Error(`create admin key: ${admin.status} ${await admin.text()}`);
  const { key } = (await admin.json()) as { key: string };
  const res = await fetch(`${api.url}/v1/admin/sources`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (res.status !== 201) throw new Error(`create source: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; writeKey: string };
}
