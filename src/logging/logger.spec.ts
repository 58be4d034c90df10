import { redact } from './logger';

describe('redact', () => {
  it.each([
    'authorization',
    'Authorization',
    'x-write-key',
    'X-Write-Key',
    'writeKey',
    'write_key',
    'password',
    'token',
    'admin_token',
    'ADMIN_TOKEN',
    'secret',
  ])('hides the value of key %s', (key) => {
    expect(redact({ [key]: 'sk_write_abc', keep: 'visible' })).toEqual({
      [key]: '[redacted]',
      keep: 'visible',
    });
  });

  it('hides secrets whatever their value type', () => {
    expect(
      redact({ token: 12345, password: { nested: 'x' }, authorization: ['Basic abc'] }),
    ).toEqual({
      token: '[redacted]',
      password: '[redacted]',
      authorization: '[redacted]',
    });
  });

  it('keeps keys that only contain a secret word', () => {
    expect(redact({ tokenCount: 3, passwordPolicy: 'strong', tokens: 1 })).toEqual({
      tokenCount: 3,
      passwordPolicy: 'strong',
      tokens: 1,
    });
  });

  it('hides secrets in nested objects and arrays', () => {
    const input = {
      req: {
        headers: {
          authorization: 'Basic c2tfd3JpdGU6',
          'x-write-key': 'sk_write_x',
          accept: 'json',
        },
      },
      body: { batch: [{ writeKey: 'sk_write_y', event: 'E' }] },
    };
    expect(redact(input)).toEqual({
      req: {
        headers: { authorization: '[redacted]', 'x-write-key': '[redacted]', accept: 'json' },
      },
      body: { batch: [{ writeKey: '[redacted]', event: 'E' }] },
    });
  });

  it('does not modify its input', () => {
    const input = { password: 'p', url: 'redis://:pw@host:6379' };
    redact(input);
    expect(input).toEqual({ password: 'p', url: 'redis://:pw@host:6379' });
  });

  it.each([
    ['postgres://sluice:s3cret@db:5432/sluice', 'postgres://sluice:***@db:5432/sluice'],
    ['redis://:s3cret@cache:6379', 'redis://:***@cache:6379'],
    ['rediss://default:s3cret@cache:6380/0', 'rediss://default:***@cache:6380/0'],
    [
      'connect failed for postgres://a:b@h1/x and redis://:c@h2:6379',
      'connect failed for postgres://a:***@h1/x and redis://:***@h2:6379',
    ],
  ])('hides the password in URL %s', (input, expected) => {
    expect(redact(input)).toBe(expected);
  });

  it('hides URL credentials inside objects', () => {
    expect(redact({ db: { url: 'postgres://u:pw@h/db' }, list: ['redis://:pw@r:6379'] })).toEqual({
      db: { url: 'postgres://u:***@h/db' },
      list: ['redis://:***@r:6379'],
    });
  });

  it('leaves URLs without a password and plain strings alone', () => {
    expect(redact('postgres://postgres@127.0.0.1:5432/sluice')).toBe(
      'postgres://postgres@127.0.0.1:5432/sluice',
    );
    expect(redact('http://example.com/a:b')).toBe('http://example.com/a:b');
    expect(redact('time 12:30 at home')).toBe('time 12:30 at home');
  });

  it('passes primitives through', () => {
    expect(redact(42)).toBe(42);
    expect(redact(null)).toBeNull();
    expect(redact(undefined)).toBeUndefined();
    expect(redact(true)).toBe(true);
  });
});
