import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** The three kinds of API key: write (one source, ingestion), read (query API), admin (everything). */
export const KEY_KINDS = ['write', 'read', 'admin'] as const;
export type KeyKind = (typeof KEY_KINDS)[number];

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function base62(bytes: number): string {
  const buf = randomBytes(bytes);
  let out = '';
  // Rejection-free mapping: 62 of 256 byte values are unevenly used, so draw 2 bytes a char.
  for (let i = 0; i + 1 < buf.length; i += 2) out += ALPHABET[buf.readUInt16BE(i) % 62];
  return out;
}

export interface GeneratedKey {
  key: string;
  keyId: string;
  hash: Buffer;
}

const KEY_RE = /^sk_(write|read|admin)_([0-9A-Za-z]{8})_([0-9A-Za-z]{32})$/;

/** `sk_<kind>_<8-char id>_<32-char secret>`: about 190 random bits in the secret. */
export function generateKey(kind: KeyKind): GeneratedKey {
  const keyId = base62(16);
  const key = `sk_${kind}_${keyId}_${base62(64)}`;
  return { key, keyId, hash: hashKey(key) };
}

export function parseKey(key: string): { kind: KeyKind; keyId: string } | null {
  const m = KEY_RE.exec(key);
  return m ? { kind: m[1] as KeyKind, keyId: m[2] } : null;
}

export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** Constant-time comparison of two secrets of any length. */
export function secretsEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
