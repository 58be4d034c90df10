import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client } from 'pg';
import request from 'supertest';
import { createApp } from '../../src/app/create-app';
import { drainAndClose } from '../../src/app/drain';
import { CLI_ACTOR } from '../../src/audit/actor';
import { KeysService } from '../../src/sources/keys.service';
import { AppConfig, loadConfig } from '../../src/config';
import { REDIS_URL, testDatabaseUrl, uniqueName } from './env';
import { deleteRedisPrefix } from './redis';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  /** An admin key (sk_admin_…) created for this app. */
  adminKey: string;
  http: ReturnType<typeof request>;
  close(): Promise<void>;
}

const silentLogger = { log() {}, error() {}, warn() {}, debug() {}, verbose() {}, fatal() {} };

/** Starts the real app in-process (ROLE=all by default) on this run's database. */
export async function startApp(overrides: Record<string, string> = {}): Promise<TestApp> {
  const config = loadConfig({
    NODE_ENV: 'test',
    ROLE: 'all',
    DATABASE_URL: testDatabaseUrl(),
    REDIS_URL,
    QUEUE_PREFIX: uniqueName('sluicetest'),
    ADMIN_TOKEN,
    DATABASE_POOL_SIZE: '4',
    // Suites create and revoke many keys quickly from one address; the limiter has its own tests.
    KEY_LOOKUPS_PER_IP: '0',
    ...overrides,
  });
  const app = await createApp(config, process.env.SLUICE_TEST_LOGS ? undefined : silentLogger);
  const adminKey = (await app.get(KeysService).createKey({ kind: 'admin', name: 'tests' }, CLI_ACTOR)).key;
  return {
    app,
    config,
    adminKey,
    http: request(app.getHttpServer()),
    async close() {
      await drainAndClose(app, config);
      await deleteRedisPrefix(config.redis.prefix, config.redis.url);
    },
  };
}

export async function createSource(t: TestApp, name = uniqueName('src')): Promise<{ id: string; writeKey: string }> {
  const res = await t.http.post('/v1/admin/sources').set('Authorization', `Bearer ${t.adminKey}`).send({ name });
  if (res.status !== 201) throw new Error(`create source: ${res.status} ${res.text}`);
  return res.body;
}

/** A direct PostgreSQL connection for assertions (tests read what the worker wrote). */
export async function withDb<T>(fn: (db: Client) => Promise<T>): Promise<T> {
  const db = new Client({ connectionString: testDatabaseUrl() });
  await db.connect();
  try {
    return await fn(db);
  } finally {
    await db.end();
  }
}

export async function waitFor<T>(probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 30000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!done(last)) {
    if (Date.now() > deadline) return last;
    await new Promise((r) => setTimeout(r, intervalMs));
    last = await probe();
  }
  return last;
}

export function countEvents(sourceId: string): Promise<number> {
  return withDb(async (db) => Number((await db.query('SELECT count(*) AS n FROM events WHERE source_id = $1', [sourceId])).rows[0].n));
}
