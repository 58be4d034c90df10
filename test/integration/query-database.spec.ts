import { ServiceUnavailableException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config';
import { QueryDatabase } from '../../src/query/query-database';
import { testDatabaseUrl } from '../support/env';

// The query API's statement timeout, on a real PostgreSQL: a query over its budget is cancelled
// by the server and answered 503 query_timeout, and the connection is usable afterwards.
describe('QueryDatabase (real PostgreSQL)', () => {
  const config = loadConfig({ DATABASE_URL: testDatabaseUrl(), QUERY_STATEMENT_TIMEOUT_MS: '200' });
  const ds = new DataSource({ type: 'postgres', url: testDatabaseUrl(), poolSize: 1 });
  beforeAll(() => ds.initialize());
  afterAll(() => ds.destroy());

  it('stops a statement over QUERY_STATEMENT_TIMEOUT_MS with a 503 that says so', async () => {
    const q = new QueryDatabase(ds, config);
    const err = await q.read('SELECT pg_sleep(2)', []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnavailableException);
    expect((err as ServiceUnavailableException).getResponse()).toMatchObject({ reason: 'query_timeout' });
    expect(await q.read<{ n: number }>('SELECT 1 AS n', [])).toEqual([{ n: 1 }]);
    // The timeout is the transaction's own: the pooled connection keeps the server default.
    expect((await ds.query('SHOW statement_timeout'))[0].statement_timeout).toBe('0');
  });
});
