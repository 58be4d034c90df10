import { Client } from 'pg';
import { loadConfig } from '../../src/config';
import { runMigrations } from '../../src/database/migrator';
import { BASE_DATABASE_URL, uniqueName } from './env';

/**
 * A migrated database of a test's own, for tests whose processes change what every other test
 * would see (retention drops whole partitions); `drop()` removes it.
 */
export async function createDatabase(prefix: string): Promise<{ url: string; query: <T = any>(sql: string, params?: unknown[]) => Promise<T[]>; drop: () => Promise<void> }> {
  const name = uniqueName(prefix).toLowerCase();
  const url = await createMigratedDatabase(name);
  const db = new Client({ connectionString: url });
  await db.connect();
  return {
    url,
    query: async (sql, params) => (await db.query(sql, params)).rows,
    drop: async () => {
      await db.end();
      const c = new Client({ connectionString: BASE_DATABASE_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Creates database `name` on the test server and runs the migrations; returns its URL. */
export async function createMigratedDatabase(name: string): Promise<string> {
  const admin = new Client({ connectionString: BASE_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(BASE_DATABASE_URL);
  url.pathname = `/${name}`;
  await runMigrations(loadConfig({ DATABASE_URL: url.toString(), ROLE: 'all' }));
  return url.toString();
}
