import { Client } from 'pg';
import { loadConfig } from '../../src/config';
import { runMigrations } from '../../src/database/migrator';
import { BASE_DATABASE_URL, uniqueName } from './env';

/** Creates this run's database and migrates it; workers inherit its URL. */
export default async function globalSetup(): Promise<void> {
  const name = uniqueName('sluice_test');
  const admin = new Client({ connectionString: BASE_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(BASE_DATABASE_URL);
  url.pathname = `/${name}`;
  process.env.SLUICE_TEST_DATABASE_URL = url.toString();
  process.env.SLUICE_TEST_DATABASE_NAME = name;
  await runMigrations(loadConfig({ DATABASE_URL: url.toString(), ROLE: 'all' }));
}
