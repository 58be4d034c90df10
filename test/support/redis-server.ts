import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A private, throwaway redis-server a test may stop and start (the shared one must stay up). */
export class PrivateRedis {
  private proc: ChildProcess | null = null;
  /** `args` replace the defaults after the port (e.g. AOF settings, --replicaof). */
  constructor(
    readonly port: number,
    private readonly args: string[] = ['--save', '', '--appendonly', 'no'],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.proc) return;
    // Its own directory, so nothing it writes (a replica's RDB) lands in the working tree.
    const dir = this.args.includes('--dir') ? [] : ['--dir', mkdtempSync(join(tmpdir(), 'sluice-redis-'))];
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', ...this.args, ...dir], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        probe.disconnect();
      }
    }
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    this.proc = null;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  }
}
