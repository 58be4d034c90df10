// `npm run migration:run`: applies migrations (Helm hook Job, compose `migrate` service, and
// the first step of `npm start`).
import 'reflect-metadata';
import { loadConfig } from '../config';
import { describeStartupError } from '../common/startup-errors';
import { runMigrations } from './migrator';

async function main(): Promise<void> {
  let urls: { database?: string } = {};
  try {
    const config = loadConfig();
    urls = { database: config.database.url };
    const applied = await runMigrations(config);
    console.log(applied.length ? `Applied migrations: ${applied.join(', ')}` : 'Database schema is up to date.');
  } catch (err) {
    console.error(describeStartupError(err, urls));
    process.exit(1);
  }
}

void main();
