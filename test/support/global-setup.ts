import { createMigratedDatabase } from './database';
import { uniqueName } from './env';

/** Creates this run's database and migrates it; workers inherit its URL. */
export default async function globalSetup(): Promise<void> {
  const name = uniqueName('sluice_test');
  process.env.SLUICE_TEST_DATABASE_URL = await createMigratedDatabase(name);
  process.env.SLUICE_TEST_DATABASE_NAME = name;
}
