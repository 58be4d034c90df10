// `npm run bench:auth`: what authentication and per-source rate limiting cost on single-event
// ingestion, measured in one run. Two api processes of the same build share one database,
// Redis and worker; they differ only in the source limits:
//   - "auth only":         limits 0 (unlimited): the rate-limit guard returns without Redis;
//   - "auth + rate limit": limits set far above the load, so every request runs the Redis
//                          check (one Lua call) and is still accepted.
// Both verify the write key on every request (cached in-process). They are measured
// alternately, A B A B, with the same load, beside a bare Fastify server (no Sluice at all).
// The in-process cost of the key check itself is measured directly (µs per call).
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BodyFactory } from './lib/events';
import { runAutocannon } from './lib/load';
import { createDatabase, credentials, databaseUrl, deleteRedisPrefix, dropDatabase, freePort, Managed, migrate, randomToken, REDIS_URL, ROOT, waitReady } from './lib/stack';

const SECONDS = Number(process.argv.find((a) => /^--seconds=\d+$/.test(a))?.split('=')[1] ?? 8);
const CONNECTIONS = 50;

async function main(): Promise<void> {
  const run = `auth${Date.now().toString(36)}`;
  const db = `sluice_bench_${run}`;
  const prefix = `sluice_bench_${run}`;
  const logs = mkdtempSync(join(tmpdir(), 'sluice-bench-auth-'));
  const adminToken = randomToken();
  await createDatabase(db);
  const base = { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', DATABASE_URL: databaseUrl(db), REDIS_URL, QUEUE_PREFIX: prefix, ADMIN_TOKEN: adminToken, BACKLOG_LIMIT_EVENTS: '0' };
  const procs: Managed[] = [];
  const start = async (name: string, env: Record<string, string>) => {
    const port = await freePort();
    const p = new Managed(name, [join(ROOT, 'dist', 'main.js')], { ...base, PORT: String(port), HOST: '127.0.0.1', ...env }, join(logs, `${name}.log`), `http://127.0.0.1:${port}`);
    procs.push(p);
    await waitReady(p);
    return p;
  };
  try {
    await migrate(base);
    const plain = await start('api-auth-only', { ROLE: 'api', RATE_LIMIT_RPS: '0', RATE_LIMIT_EPS: '0', DAILY_EVENT_QUOTA: '0' });
    const limited = await start('api-auth-ratelimit', { ROLE: 'api', RATE_LIMIT_RPS: '1000000000', RATE_LIMIT_EPS: '1000000000', DAILY_EVENT_QUOTA: '1000000000000' });
    await start('worker', { ROLE: 'worker' });
    const barePort = await freePort();
    const bare = new Managed('bare', ['-r', 'ts-node/register/transpile-only', join(ROOT, 'bench', 'bare-fastify.ts'), String(barePort)], process.env, join(logs, 'bare.log'), `http://127.0.0.1:${barePort}`);
    procs.push(bare);
    await new Promise((r) => setTimeout(r, 1500));

    const { createSource } = await credentials(plain.url, adminToken);
    const source = await createSource('auth-cost');
    const headers = { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${source.writeKey}:`).toString('base64')}` };
    const bodies = BodyFactory.track(randomUUID().slice(0, 8));
    const load = (url: string) => runAutocannon({ url, path: '/v1/track', headers, body: () => bodies.next(), connections: CONNECTIONS, durationSeconds: SECONDS });

    const results: Record<string, number[]> = { bare: [], 'auth only': [], 'auth + rate limit': [] };
    for (let round = 0; round < 2; round++) {
      results.bare.push((await load(bare.url)).requestsPerSecond);
      results['auth only'].push((await load(plain.url)).requestsPerSecond);
      results['auth + rate limit'].push((await load(limited.url)).requestsPerSecond);
    }
    const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
    const bareRps = mean(results.bare);
    const authRps = mean(results['auth only']);
    const limitRps = mean(results['auth + rate limit']);
    console.log(`\nPOST /v1/track, ${CONNECTIONS} connections, ${SECONDS} s per run, alternated twice (mean of the two):\n`);
    console.log('| api configuration | requests/s | vs auth only | vs bare Fastify |');
    console.log('|---|---|---|---|');
    console.log(`| bare Fastify (no Sluice) | ${bareRps} | - | 1.00 |`);
    console.log(`| Sluice, auth only (limits off) | ${authRps} | 1.00 | ${(authRps / bareRps).toFixed(2)} |`);
    console.log(`| Sluice, auth + rate limit | ${limitRps} | ${(limitRps / authRps).toFixed(2)} | ${(limitRps / bareRps).toFixed(2)} |`);
    console.log(`\nThe rate-limit check costs ${(100 * (1 - limitRps / authRps)).toFixed(1)} % of single-event throughput here; runs: ${JSON.stringify(results)}`);
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await dropDatabase(db).catch(() => undefined);
    await deleteRedisPrefix(prefix).catch(() => undefined);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
