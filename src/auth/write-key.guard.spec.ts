import { ExecutionContext, UnauthorizedException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CredentialsService } from './credentials.service';
import { extractWriteKey, WriteKeyGuard } from './write-key.guard';

const KEY = 'sk_write_AbCd1234_0123456789abcdefghijABCDEFGHIJ0123';

function request(
  headers: Record<string, string | string[] | undefined> = {},
  body?: unknown,
): FastifyRequest {
  return { headers, body } as unknown as FastifyRequest;
}

const basic = (userPass: string) => `Basic ${Buffer.from(userPass).toString('base64')}`;

describe('extractWriteKey', () => {
  it('reads the HTTP Basic user name with an empty password', () => {
    expect(extractWriteKey(request({ authorization: basic(`${KEY}:`) }))).toBe(KEY);
  });

  it('reads the HTTP Basic user name when a password is sent anyway', () => {
    expect(extractWriteKey(request({ authorization: basic(`${KEY}:ignored`) }))).toBe(KEY);
  });

  it('reads Basic credentials without a colon', () => {
    expect(extractWriteKey(request({ authorization: basic(KEY) }))).toBe(KEY);
  });

  it('accepts the Basic scheme in any case', () => {
    expect(
      extractWriteKey(
        request({ authorization: `basic ${Buffer.from(`${KEY}:`).toString('base64')}` }),
      ),
    ).toBe(KEY);
    expect(
      extractWriteKey(
        request({ authorization: `BASIC  ${Buffer.from(`${KEY}:`).toString('base64')}` }),
      ),
    ).toBe(KEY);
  });

  it('reads the X-Write-Key header', () => {
    expect(extractWriteKey(request({ 'x-write-key': KEY }))).toBe(KEY);
  });

  it('reads writeKey from the body', () => {
    expect(extractWriteKey(request({}, { writeKey: KEY, batch: [] }))).toBe(KEY);
  });

  it('prefers Basic, then the header, then the body', () => {
    const all = request(
      { authorization: basic('from-basic:'), 'x-write-key': 'from-header' },
      { writeKey: 'from-body' },
    );
    expect(extractWriteKey(all)).toBe('from-basic');
    expect(
      extractWriteKey(request({ 'x-write-key': 'from-header' }, { writeKey: 'from-body' })),
    ).toBe('from-header');
  });

  it('falls through when Basic carries an empty user name', () => {
    expect(
      extractWriteKey(request({ authorization: basic(':password'), 'x-write-key': KEY })),
    ).toBe(KEY);
    expect(extractWriteKey(request({ authorization: basic(':') }, { writeKey: KEY }))).toBe(KEY);
  });

  it('ignores other authorization schemes', () => {
    expect(extractWriteKey(request({ authorization: `Bearer ${KEY}` }))).toBeNull();
    expect(extractWriteKey(request({ authorization: `Bearer ${KEY}`, 'x-write-key': 'h' }))).toBe(
      'h',
    );
  });

  it.each([
    ['no credentials at all', request({})],
    ['an empty X-Write-Key', request({ 'x-write-key': '' })],
    ['a repeated X-Write-Key header (array)', request({ 'x-write-key': ['a', 'b'] })],
    ['an empty body writeKey', request({}, { writeKey: '' })],
    ['a non-string body writeKey', request({}, { writeKey: 123 })],
    ['a string body', request({}, 'writeKey=abc')],
    ['a null body', request({}, null)],
    ['an array body', request({}, [{ writeKey: KEY }])],
  ])('returns null for %s', (_name, req) => {
    expect(extractWriteKey(req)).toBeNull();
  });
});

describe('WriteKeyGuard', () => {
  it('refuses a request without a key with 401, before any lookup', async () => {
    const verify = jest.fn();
    const guard = new WriteKeyGuard({ verify } as unknown as CredentialsService);
    const req = request({ authorization: `Bearer ${KEY}` }, { batch: [] });
    const ctx = { switchToHttp: () => ({ getRequest: () => req }) } as unknown as ExecutionContext;
    await expect(guard.canActivate(ctx)).rejects.toBeInstanceOf(UnauthorizedException);
    expect(verify).not.toHaveBeenCalled();
  });
});
