import { Client } from 'pg';
import { BASE_DATABASE_URL } from './env';

export default async function globalTeardown(): Promise<void> {
  const name = process.env.SLUICE_TEST_DATABASE_NAME;
  if (!name || process.env.SLUICE_KEEP_TEST_DB) return;
  const admin = new Client({ connectionString: BASE_DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
