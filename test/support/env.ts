// Test defaults: the local services every developer machine and CI runs.
export const BASE_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Set by global set-up: the database created for this run. */
export function testDatabaseUrl(): string {
  const url = process.env.SLUICE_TEST_DATABASE_URL;
  if (!url) throw new Error('SLUICE_TEST_DATABASE_URL is not set: run tests through `npm test` (jest global set-up).');
  return url;
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}
