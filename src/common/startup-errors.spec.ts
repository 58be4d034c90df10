import { ConfigValidationError } from '../config';
import { describeStartupError } from './startup-errors';

const URLS = {
  database: 'postgres://sluice:pg-s3cret@db.internal:5432/sluice',
  redis: 'redis://:redis-s3cret@cache.internal:6379',
};
const HINT = '`docker compose up -d postgres redis`';

const err = (message: string, props: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), props);

function expectOneLine(text: string) {
  expect(text).not.toContain('\n');
  expect(text).not.toContain('pg-s3cret');
  expect(text).not.toContain('redis-s3cret');
}

describe('describeStartupError', () => {
  it('passes a configuration error through unchanged', () => {
    const config = new ConfigValidationError(
      'Invalid configuration:\n  ROLE="x": ROLE must be one of ...',
    );
    expect(describeStartupError(config, URLS)).toBe(config.message);
    expect(describeStartupError(config, {})).toBe(config.message);
  });

  it('explains ECONNREFUSED on PostgreSQL, naming the URL without its password', () => {
    const text = describeStartupError(
      err('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED' }),
      URLS,
    );
    expectOneLine(text);
    expect(text).toBe(
      `Cannot reach PostgreSQL at postgres://sluice:***@db.internal:5432/sluice (ECONNREFUSED). Start it (e.g. ${HINT}) or set DATABASE_URL.`,
    );
  });

  it('explains ECONNREFUSED on PostgreSQL on a non-default port', () => {
    const text = describeStartupError(
      err('connect ECONNREFUSED 10.0.0.9:6543', { code: 'ECONNREFUSED' }),
      URLS,
    );
    expectOneLine(text);
    expect(text).toMatch(
      /^Cannot reach PostgreSQL at postgres:\/\/sluice:\*\*\*@db\.internal:5432\/sluice /,
    );
  });

  it('explains ECONNREFUSED on Redis, naming the URL without its password', () => {
    const text = describeStartupError(
      err('connect ECONNREFUSED 127.0.0.1:6379', { code: 'ECONNREFUSED' }),
      URLS,
    );
    expectOneLine(text);
    expect(text).toBe(
      `Cannot reach Redis at redis://:***@cache.internal:6379 (ECONNREFUSED). Start it (e.g. ${HINT}) or set REDIS_URL.`,
    );
  });

  it('explains the Redis start-up timeout', () => {
    const timeout = err('Redis did not answer', { code: 'ETIMEDOUT', redis: true });
    const text = describeStartupError(timeout, URLS);
    expectOneLine(text);
    expect(text).toMatch(
      /^Cannot reach Redis at redis:\/\/:\*\*\*@cache\.internal:6379 \(ETIMEDOUT\)/,
    );
    expect(text).toContain(HINT);
  });

  it('recognises a connection error nested in an AggregateError (dual-stack connect)', () => {
    const aggregate = new AggregateError(
      [
        err('connect ECONNREFUSED ::1:5432', { code: 'ECONNREFUSED' }),
        err('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED' }),
      ],
      '',
    );
    const text = describeStartupError(aggregate, URLS);
    expectOneLine(text);
    expect(text).toMatch(/^Cannot reach PostgreSQL at .* \(ECONNREFUSED\)/);
  });

  it.each([
    ['bad password', err('password authentication failed for user "sluice"', { code: '28P01' })],
    ['missing database', err('database "sluice" does not exist', { code: '3D000' })],
    ['unknown role', err('role "nobody" does not exist', { code: '28000' })],
    ['host not found', err('getaddrinfo ENOTFOUND db.internal', { code: 'ENOTFOUND' })],
  ])('attributes a PostgreSQL %s to PostgreSQL', (_name, e) => {
    const text = describeStartupError(e, URLS);
    expectOneLine(text);
    expect(text).toMatch(/^Cannot reach PostgreSQL at postgres:\/\/sluice:\*\*\*@db\.internal/);
    expect(text).toContain('set DATABASE_URL');
  });

  it('names the database URL in the migration command, which knows no Redis', () => {
    const text = describeStartupError(
      err('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED' }),
      {
        database: URLS.database,
      },
    );
    expect(text).toMatch(/^Cannot reach PostgreSQL/);
  });

  it('does not blame a service whose URL it was not given', () => {
    const refused = err('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED' });
    const text = describeStartupError(refused, {});
    expect(text).not.toMatch(/Cannot reach/);
    expect(text).toContain('connect ECONNREFUSED 127.0.0.1:5432');
  });

  it('keeps the stack of any other error', () => {
    const bug = new TypeError('cannot read properties of undefined');
    expect(describeStartupError(bug, URLS)).toBe(bug.stack);
  });

  it('describes a thrown non-Error value', () => {
    expect(describeStartupError('something odd', URLS)).toBe('something odd');
  });

  it('does not echo an unparseable URL', () => {
    const text = describeStartupError(
      err('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED' }),
      {
        database: 'postgres://user:pw@[not a url',
      },
    );
    expect(text).toContain('(unparseable URL)');
    expect(text).not.toContain('pw');
  });
});
