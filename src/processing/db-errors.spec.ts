import { classifyDbError } from './db-errors';

const pg = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('classifyDbError', () => {
  it.each([
    ['connection refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['connection reset', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['a timeout connecting', Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' })],
    ['admin shutdown 57P01', pg('57P01', 'terminating connection due to administrator command')],
    ['crash shutdown 57P02', pg('57P02')],
    ['cannot connect now 57P03', pg('57P03', 'the database system is starting up')],
    ['a standby during failover 25006', pg('25006', 'cannot execute INSERT in a read-only transaction')],
    ['connection exception 08006', pg('08006')],
    ['too many connections 53300', pg('53300')],
    ['disk full 53100', pg('53100')],
    ['a rotated password 28P01', pg('28P01', 'password authentication failed for user "sluice"')],
    ['no pg_hba entry 28000', pg('28000')],
    ['an untrusted server certificate', Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' })],
    ['a certificate for another host', Object.assign(new Error("Hostname/IP does not match certificate's altnames"), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' })],
    ['an expired certificate', Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' })],
    ['pg without a code', new Error('Connection terminated unexpectedly')],
    ['pg pool timeout', new Error('timeout exceeded when trying to connect')],
    ['TypeORM before its first connection', new Error('Cannot execute operation on "default" connection because connection is not yet established.')],
    ['TypeORM wrapping a driver error', Object.assign(new Error('query failed'), { driverError: { code: '57P01' } })],
    ['AggregateError of refused addresses', Object.assign(new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' }), Object.assign(new Error('b'), { code: 'ECONNREFUSED' })], ''), {})],
  ])('%s is unavailable: never uses up attempts', (_n, err) => {
    expect(classifyDbError(err)).toBe('unavailable');
  });

  it.each([
    ['invalid text 22021 (NUL)', pg('22021')],
    ['unsupported Unicode escape 22P05', pg('22P05')],
    ['invalid JSON 22P02', pg('22P02')],
    ['datetime out of range 22008', pg('22008')],
    ['unique violation 23505', pg('23505')],
    ['program limit 54000 (index row too big)', pg('54000')],
  ])('%s is a data error: isolated and dead-lettered at once', (_n, err) => {
    expect(classifyDbError(err)).toBe('data');
  });

  it.each([
    ['deadlock 40P01', pg('40P01')],
    ['serialization failure 40001', pg('40001')],
    ['statement timeout 57014', pg('57014')],
    ['an unexpected error', new Error('something else')],
    ['undefined', undefined],
  ])('%s is transient: retried within the attempts', (_n, err) => {
    expect(classifyDbError(err)).toBe('transient');
  });
});
