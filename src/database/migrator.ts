import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config';
import { dataSourceOptions, pgSsl } from './data-source-options';

// Any constant shared by every migrator; two starts racing serialize on it.
const MIGRATION_LOCK = 7_346_153_001;

/** Creates the configured database when it does not exist yet (a fresh machine). */
export async function ensureDatabase(config: AppConfig): Promise<void> {
  const url = new URL(config.database.url);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) return;
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString(), ssl: pgSsl(config), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`).catch((e: { code?: string }) => {
        if (e.code !== '42P04') throw e; // created concurrently by another starter
      });
    }
  } finally {
    await client.end();
  }
}

/** Applies pending migrations under a session advisory lock; returns their names. */
export async function runMigrations(config: AppConfig): Promise<string[]> {
  await ensureDatabase(config).catch(() => undefined); // no rights to create: the connect below says why
  const ds = new DataSource(dataSourceOptions(config, { poolSize: 2, applicationName: 'sluice-migrate' }));
  await ds.initialize();
  const lock = ds.createQueryRunner();
  try {
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await ds.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lock.release();
    await ds.destroy();
  }
}
