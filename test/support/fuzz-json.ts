import fc from 'fast-check';

/**
 * JSON the fuzz suites build and send: plain values plus three markers a JS value cannot
 * express, written out by `toJson`:
 * - RawJson: text pasted verbatim (numbers JSON.parse cannot represent such as 1e400 or
 *   123456789012345678901234567890, `-0`, nesting 20,000 levels deep, invalid JSON);
 * - Entries: an object as a list of entries (duplicate keys, `__proto__` as a plain key);
 * - RelTime: a timestamp relative to the moment of sending (a seed replays the same offsets).
 */
export class RawJson {
  constructor(readonly text: string) {}
}
export class Entries {
  constructor(readonly entries: [string, unknown][]) {}
}
export class RelTime {
  constructor(readonly offsetMs: number) {}
}
export const raw = (text: string) => new RawJson(text);

/** JSON text of a value with markers; undefined members are left out, as JSON.stringify does. */
export function toJson(v: unknown): string {
  if (v instanceof RawJson) return v.text;
  if (v instanceof RelTime) return JSON.stringify(new Date(Date.now() + v.offsetMs).toISOString());
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`;
  const entries = v instanceof Entries ? v.entries : Object.keys(v as object).map((k) => [k, (v as Record<string, unknown>)[k]] as [string, unknown]);
  return `{${entries
    .filter(([, x]) => x !== undefined)
    .map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`)
    .join(',')}}`;
}

const DAY = 86_400_000;

/** Strings PostgreSQL, UTF-8, JSON, COPY, logs or a parser may choke on. */
export const HOSTILE_STRINGS: string[] = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\ud800y',
  '\udc00\ud800',
  '\ud83d',
  'ok\ude00',
  '😀',
  '\ufeff',
  '\ufeffbom',
  '\u2028\u2029',
  '\\',
  '\\.',
  '\\N',
  '"',
  "'; DROP TABLE events; --",
  '\t\n\r',
  '\r\n.\r\n',
  '\u0001\u001f\u007f',
  '\u0085',
  '\u202e',
  '\ufffd',
  '\uffff',
  '%00',
  '%ED%A0%80',
  '',
  ' ',
  'null',
  '0',
  '-1',
  '1e400',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  'e\u0301',
  'a' + '\ufe0f'.repeat(300),
  '\u0300'.repeat(500),
  'é'.repeat(1024),
  'x'.repeat(255),
  'x'.repeat(256),
  'x'.repeat(1024),
  'x'.repeat(1025),
  'x'.repeat(10_000),
  'x'.repeat(10_001),
];

/** Number tokens (raw JSON text): huge, precise, negative zero, beyond double, beyond int64. */
export const HOSTILE_NUMBERS: string[] = [
  '1e308',
  '-1e308',
  '1.7976931348623157e308',
  '1.7976931348623157e309',
  '1e400',
  '-1e400',
  '1e-400',
  '1e1000000',
  '4.9e-324',
  '2.2250738585072014e-308',
  '-0',
  '-0.0',
  '0.0',
  '0e0',
  '123456789012345678901234567890',
  '-123456789012345678901234567890',
  '9223372036854775807',
  '9223372036854775808',
  '-9223372036854775809',
  '18446744073709551616',
  '9007199254740993',
  '0.1',
  '1.5',
  '-1',
  '0',
  '1e20',
  '1E+2',
  '-0.0000012345678901234567',
  '0.30000000000000004',
];

/** Timestamps PostgreSQL or Date.parse may read differently, or not at all. */
export const ODD_TIMESTAMPS: unknown[] = [
  '0000-01-01T00:00:00Z',
  '0001-01-01T00:00:00Z',
  '0001-01-01T00:00:00.000+01:00',
  '9999-12-31T23:59:59.999Z',
  '9999-12-31T23:59:59.999-01:00',
  '10000-01-01T00:00:00Z',
  '+275760-09-13T00:00:00.000Z',
  '+275760-09-13T00:00:00.001Z',
  '-271821-04-20T00:00:00.000Z',
  '-000001-01-01T00:00:00Z',
  '+010000-01-01T00:00:00Z',
  '2024-02-30T00:00:00Z',
  '2024-13-01T00:00:00Z',
  '2024-01-01T24:00:00Z',
  '2024-01-01T25:00:00Z',
  '2024-01-01',
  '2024-01-01T00:00:00',
  '2024-01-01T00:00:00+14:00',
  '2024-01-01T00:00:00-23:59',
  '2024-01-01T00:00:00.123456789Z',
  `2024-01-01T00:00:00Z${'x'.repeat(60)}`,
  '1970-01-01T00:00:00Z',
  '2999-01-01T00:00:00Z',
  'Tue, 01 Jan 2030 00:00:00 GMT',
  '20240101T000000Z',
  '2024-W01-1',
  'not a date',
  '',
  ' ',
  '\u0000',
  '\ud800',
  0,
  -1,
  1_700_000_000_000,
  raw('1e308'),
  raw('1e400'),
  true,
  {},
  [],
  null,
  new RelTime(-731 * DAY),
  new RelTime(-729 * DAY),
  new RelTime(6 * DAY),
  new RelTime(8 * DAY),
  new RelTime(4000 * 365 * DAY),
];

/**
 * fast-check's JSON and dictionaries include "__proto__" keys now and then, and Fastify refuses
 * a whole body holding one: renamed here, so that such bodies come from `hostileKey` alone, at
 * the rate it chooses.
 */
export function withoutProtoKeys<T>(v: T): T {
  if (Array.isArray(v)) return v.map(withoutProtoKeys) as T;
  if (v && typeof v === 'object' && !(v instanceof RawJson) && !(v instanceof RelTime) && !(v instanceof Entries)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) out[k === '__proto__' ? '__proto' : k] = withoutProtoKeys((v as Record<string, unknown>)[k]);
    return out as T;
  }
  return v;
}

/** fc.jsonValue without "__proto__" keys (see withoutProtoKeys). */
export const jsonValue = (maxDepth: number) => fc.jsonValue({ maxDepth }).map(withoutProtoKeys);

/** A recent time (what real clients send): mostly the last hours. */
export const recentTime = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: -6 * 3_600_000, max: 0 }).map((ms) => new RelTime(ms)) },
  { weight: 1, arbitrary: fc.integer({ min: -700 * DAY, max: 6 * DAY }).map((ms) => new RelTime(ms)) },
);

export const timestampArb = fc.oneof({ weight: 4, arbitrary: recentTime }, { weight: 1, arbitrary: fc.constantFrom(...ODD_TIMESTAMPS) });

export const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  // Any UTF-16 code units, lone surrogates included.
  { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 12 }).map((u) => String.fromCharCode(...u)) },
);

export const hostileNumber = fc.constantFrom(...HOSTILE_NUMBERS).map(raw);

/** Nesting near and beyond the depth limits (64 for events, 16 for admin bodies) and far beyond. */
export const deepNesting = fc
  .record({
    depth: fc.oneof(fc.integer({ min: 12, max: 20 }), fc.integer({ min: 58, max: 70 }), fc.constantFrom(200, 1000, 20_000)),
    shape: fc.constantFrom('array', 'object', 'mixed'),
  })
  .map(({ depth, shape }) => {
    let open = '';
    let close = '';
    for (let i = 0; i < depth; i++) {
      const arr = shape === 'array' || (shape === 'mixed' && i % 2 === 1);
      open += arr ? '[' : '{"k":';
      close = (arr ? ']' : '}') + close;
    }
    return raw(`${open}1${close}`);
  });

/** Small bodies that serialize much larger: `1e20` is stored as 21 digits. */
export const numberAmplifier = fc
  .record({ n: fc.integer({ min: 100, max: 7000 }), token: fc.constantFrom('1e20', '9e20', '-1e-7', '1e-6') })
  .map(({ n, token }) => raw(`[${Array(n).fill(token).join(',')}]`));

export const hostileKey = fc.oneof(
  { weight: 300, arbitrary: fc.string({ maxLength: 8 }) },
  { weight: 80, arbitrary: hostileString },
  { weight: 20, arbitrary: fc.constantFrom('constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'messageId', 'type', '$ref', '') },
  // Fastify refuses a whole body holding this one (prototype poisoning)
  { weight: 1, arbitrary: fc.constant('__proto__') },
);

export interface HostileValueOptions {
  /** how many levels of generated containers (deep nesting comes from deepNesting) */
  maxDepth?: number;
}

/** Any JSON, with the hostile leaves above mixed in at every level. */
export function hostileValue(opts: HostileValueOptions = {}): fc.Arbitrary<unknown> {
  const leaf = fc.oneof(
    { weight: 6, arbitrary: jsonValue(2) },
    { weight: 3, arbitrary: hostileString },
    { weight: 2, arbitrary: hostileNumber },
    { weight: 1, arbitrary: deepNesting },
    { weight: 1, arbitrary: fc.constantFrom(null, true, false, 0, -1, 1.5, Number.MAX_SAFE_INTEGER + 2) },
  );
  const { value } = fc.letrec<{ value: unknown; array: unknown[]; object: Entries }>((tie) => ({
    value: fc.oneof({ depthSize: 'small', maxDepth: opts.maxDepth ?? 3 }, leaf, tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 4 }),
    object: fc.array(fc.tuple(hostileKey, tie('value')), { maxLength: 4 }).map((e) => new Entries(e)),
  }));
  return value;
}

/** An object (what properties/traits/context must be), hostile inside. */
export function hostileObject(opts: HostileValueOptions = {}): fc.Arbitrary<Entries> {
  return fc.array(fc.tuple(hostileKey, hostileValue(opts)), { maxLength: 5 }).map((e) => new Entries(e));
}

/** Does a generated value carry anything hostile (so a clean-input oracle must not apply)? */
export function isClean(v: unknown): boolean {
  const stack = [v];
  while (stack.length) {
    const x = stack.pop();
    if (x instanceof RawJson || x instanceof RelTime) return false;
    if (typeof x === 'string' && (!x.isWellFormed() || x.includes('\u0000') || x.length > 200)) return false;
    if (typeof x === 'number' && !Number.isFinite(x)) return false;
    if (Array.isArray(x)) stack.push(...x);
    else if (x instanceof Entries) {
      for (const [k, inner] of x.entries) {
        if (!k.isWellFormed() || k.includes('\u0000') || k === '__proto__' || k === 'constructor') return false;
        stack.push(inner);
      }
    } else if (x && typeof x === 'object') {
      for (const [k, inner] of Object.entries(x)) {
        if (!k.isWellFormed() || k.includes('\u0000') || k === '__proto__' || k === 'constructor') return false;
        stack.push(inner);
      }
    }
  }
  return true;
}

/** Seed and run count from the environment: FUZZ_SEED (default fixed), FUZZ_RUNS (a multiplier's base). */
export function fuzzSettings(defaultRuns: number): { seed: number; runs: number } {
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20261203;
  const runs = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : defaultRuns;
  if (!Number.isInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, not ${process.env.FUZZ_SEED}`);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`FUZZ_RUNS must be a positive integer, not ${process.env.FUZZ_RUNS}`);
  return { seed, runs };
}

/**
 * Does the value hold a key Fastify's JSON parser refuses the whole body for (prototype
 * poisoning: any "__proto__", or "constructor" holding "prototype")?
 */
export function hasPoisonKey(v: unknown): boolean {
  const stack = [v];
  while (stack.length) {
    const x = stack.pop();
    const entries = x instanceof Entries ? x.entries : Array.isArray(x) ? x.map((i) => ['', i] as [string, unknown]) : x && typeof x === 'object' && !(x instanceof RawJson) && !(x instanceof RelTime) ? Object.entries(x) : [];
    for (const [k, inner] of entries) {
      if (k === '__proto__' || k === 'constructor') return true;
      stack.push(inner);
    }
  }
  return false;
}
