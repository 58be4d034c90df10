import { createHash } from 'node:crypto';
import { generateKey, hashKey, KeyKind, parseKey, secretsEqual } from './key-format';

const KINDS: KeyKind[] = ['write', 'read', 'admin'];
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

describe('generateKey', () => {
  it.each(KINDS)('produces sk_%s_<8 base62>_<32 base62>', (kind) => {
    const { key, keyId } = generateKey(kind);
    expect(key).toMatch(new RegExp(`^sk_${kind}_[0-9A-Za-z]{8}_[0-9A-Za-z]{32}$`));
    expect(keyId).toMatch(/^[0-9A-Za-z]{8}$/);
    expect(key.split('_')[2]).toBe(keyId);
  });

  it('returns the sha256 of the whole key as its hash', () => {
    const { key, hash } = generateKey('write');
    expect(hash.equals(createHash('sha256').update(key).digest())).toBe(true);
  });

  it('is parseable back into its kind and id', () => {
    for (const kind of KINDS) {
      const { key, keyId } = generateKey(kind);
      expect(parseKey(key)).toEqual({ kind, keyId });
    }
  });

  it('never repeats an id or a key', () => {
    const keys = new Set<string>();
    const ids = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const { key, keyId } = generateKey('write');
      keys.add(key);
      ids.add(keyId);
    }
    expect(keys.size).toBe(500);
    expect(ids.size).toBe(500);
  });

  it('draws from the whole base62 alphabet', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const secret = generateKey('read').key.split('_')[3];
      for (const ch of secret) seen.add(ch);
    }
    // 9 600 characters: every one of the 62 turns up unless the mapping is broken.
    expect([...seen].sort().join('')).toBe([...BASE62].sort().join(''));
  });
});

describe('parseKey', () => {
  const id = 'AbCd1234';
  const secret = 'a'.repeat(16) + 'Z'.repeat(8) + '0123456A';

  it('parses a well-formed key', () => {
    expect(parseKey(`sk_write_${id}_${secret}`)).toEqual({ kind: 'write', keyId: id });
    expect(parseKey(`sk_admin_${id}_${secret}`)).toEqual({ kind: 'admin', keyId: id });
  });

  it.each([
    ['empty', ''],
    ['unknown kind', `sk_root_${id}_${secret}`],
    ['kind in capitals', `sk_WRITE_${id}_${secret}`],
    ['wrong prefix', `pk_write_${id}_${secret}`],
    ['id too short', `sk_write_${id.slice(1)}_${secret}`],
    ['id too long', `sk_write_${id}9_${secret}`],
    ['secret too short', `sk_write_${id}_${secret.slice(1)}`],
    ['secret too long', `sk_write_${id}_${secret}x`],
    ['non-base62 character in secret', `sk_write_${id}_${secret.slice(1)}-`],
    ['non-base62 character in id', `sk_write_AbCd123+_${secret}`],
    ['leading whitespace', ` sk_write_${id}_${secret}`],
    ['trailing newline', `sk_write_${id}_${secret}\n`],
    ['missing separator', `sk_write${id}_${secret}`],
  ])('rejects %s', (_name, key) => {
    expect(parseKey(key)).toBeNull();
  });
});

describe('hashKey', () => {
  it('is the 32-byte sha256 digest of the key', () => {
    const hash = hashKey('sk_write_x');
    expect(hash).toBeInstanceOf(Buffer);
    expect(hash.length).toBe(32);
    expect(hash.toString('hex')).toBe(createHash('sha256').update('sk_write_x').digest('hex'));
  });

  it('matches a known sha256 vector', () => {
    expect(hashKey('abc').toString('hex')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('is deterministic and distinguishes keys', () => {
    expect(hashKey('k1').equals(hashKey('k1'))).toBe(true);
    expect(hashKey('k1').equals(hashKey('k2'))).toBe(false);
  });
});

describe('secretsEqual', () => {
  it('is true only for identical strings', () => {
    expect(secretsEqual('s3cret-token', 's3cret-token')).toBe(true);
    expect(secretsEqual('s3cret-token', 's3cret-tokeN')).toBe(false);
    expect(secretsEqual('', '')).toBe(true);
  });

  it('compares strings of different lengths without throwing', () => {
    expect(secretsEqual('short', 'a much longer secret')).toBe(false);
    expect(secretsEqual('abc', 'abcd')).toBe(false);
    expect(secretsEqual('', 'x')).toBe(false);
  });
});
