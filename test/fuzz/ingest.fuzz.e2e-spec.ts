import fc from 'fast-check';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { AddressInfo } from 'node:net';
import { createSource, startApp, TestApp, withDb } from '../support/app';
import { waitForDrain } from '../support/drain';
import { describeRequest, errorShapeProblem, FuzzClient, RawRequest, RawResponse } from '../support/fuzz-http';
import { Entries, fuzzSettings, hasPoisonKey, hostileKey, hostileNumber, hostileObject, hostileString, hostileValue, isClean, jsonValue, numberAmplifier, withoutProtoKeys, raw, recentTime, RelTime, timestampArb, toJson } from '../support/fuzz-json';

/**
 * Property-based fuzzing of every ingestion route (the Segment paths, analytics.js' short
 * aliases, /v1/import) with hostile JSON, bodies, encodings, content types and credentials.
 * Per request: never a 5xx, never a hang; every 4xx a JSON error with a message; a 200 lists
 * exactly what it accepted; bad credentials never get a 200; a valid event is never refused for
 * its neighbours' sake; no accepted event is over MAX_EVENT_BYTES as stored. At the end: every
 * accepted event is in `events` or `dead_letters` exactly once, nothing refused was stored, and
 * the app is still live.
 *
 * FUZZ_SEED=<n> replays a run; FUZZ_RUNS=<n> sets the number of requests (default below).
 */
const { seed, runs } = fuzzSettings(3000);

const SINGLE_ROUTES: Record<string, string> = {
  track: 'track', t: 'track', identify: 'identify', i: 'identify', page: 'page', p: 'page',
  screen: 'screen', s: 'screen', group: 'group', g: 'group', alias: 'alias', a: 'alias',
};
const BATCH_ROUTES = ['batch', 'b', 'import'];
const TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'];

type AuthMode = 'basic' | 'basic-password' | 'basic-nocolon' | 'basic-lowercase' | 'x-write-key' | 'body' | 'none' | 'unknown' | 'revoked' | 'read' | 'admin' | 'garbage' | 'bearer';
const GOOD_AUTH: AuthMode[] = ['basic', 'basic-password', 'basic-nocolon', 'basic-lowercase', 'x-write-key', 'body'];
type Encoding = 'none' | 'identity' | 'gzip' | 'x-gzip' | 'GZIP' | ' gzip ' | 'deflate' | 'truncated-gzip' | 'gzip-header-plain-body' | 'gzip-body-no-header' | 'br' | 'gzip, deflate' | 'deflate-raw' | 'double-gzip' | 'gzip-trailing-garbage' | 'gzip-bomb';
const GOOD_ENCODINGS: Encoding[] = ['none', 'identity', 'gzip', 'x-gzip', 'GZIP', ' gzip ', 'deflate'];
type Mutation = 'none' | 'whitespace' | 'bom' | 'invalid-utf8' | 'raw-nul' | 'empty' | 'truncate' | 'trailing' | 'scalar' | 'multipart' | 'form' | 'utf16' | 'latin1';
type BatchShape = 'normal' | 'max-count' | 'over-count' | 'near-bytes' | 'over-bytes' | 'batch-not-array' | 'no-batch' | 'array-body';

/** How an event's messageId is made at send time (fresh ids keep every accepted event findable). */
type IdMode = { kind: 'fresh'; decoration: string } | { kind: 'reuse'; n: number } | { kind: 'odd'; value: unknown };

interface EventTemplate {
  fields: Record<string, unknown>;
  extra: [string, unknown][];
  id: IdMode;
}

interface Gen {
  route: string;
  auth: AuthMode;
  contentType: string | undefined;
  encoding: Encoding;
  mutation: { kind: Mutation; at: number; bytes: number[]; scalar: string };
  chunked: boolean;
  requestId: string | undefined;
  /** Odd messageIds (and none at all), sent to a source of their own whose rows are counted. */
  oddIds: boolean;
  single: EventTemplate;
  batch: {
    shape: BatchShape;
    events: EventTemplate[];
    context: unknown;
    integrations: unknown;
    sentAt: unknown;
    top: [string, unknown][];
    canaryAt: number;
    notArray: unknown;
  };
}

// ---------- arbitraries ----------

const opt = <T>(arb: fc.Arbitrary<T>, present: number, absent = 10 - present) =>
  fc.oneof({ weight: absent, arbitrary: fc.constant(undefined) }, { weight: present, arbitrary: arb });

const idValue = fc.oneof(
  { weight: 10, arbitrary: fc.string({ minLength: 1, maxLength: 24 }) },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 2, arbitrary: hostileString },
  { weight: 1, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, '', true, {}, [], ['u'], 'x'.repeat(1024), 'x'.repeat(1025), -0, 1e308) },
);
const textValue = fc.oneof(
  { weight: 10, arbitrary: fc.string({ minLength: 1, maxLength: 30 }) },
  { weight: 2, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, '', 0, 12, true, {}, [], 'é'.repeat(1024), 'x'.repeat(1025)) },
);
const objectish = fc.oneof(
  { weight: 5, arbitrary: hostileObject() },
  { weight: 3, arbitrary: jsonValue(3).filter((v) => !!v && typeof v === 'object' && !Array.isArray(v)) },
  { weight: 1, arbitrary: fc.record({ a: numberAmplifier }) },
  { weight: 1, arbitrary: hostileValue() },
);
const cleanObject = fc.dictionary(fc.string({ unit: 'grapheme-ascii', maxLength: 10 }), fc.oneof(fc.string({ maxLength: 30 }), fc.integer(), fc.boolean(), fc.constant(null)), { maxKeys: 4 }).map(withoutProtoKeys);

const eventFields = fc.oneof(
  // mostly well-formed: what SDKs send, with the occasional odd value
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constantFrom(...TYPES),
      userId: opt(fc.string({ minLength: 1, maxLength: 20 }), 9),
      anonymousId: opt(fc.uuid(), 3),
      event: opt(fc.string({ minLength: 1, maxLength: 30 }), 9),
      name: opt(fc.string({ maxLength: 30 }), 4),
      groupId: opt(fc.string({ minLength: 1, maxLength: 20 }), 8),
      previousId: opt(fc.string({ minLength: 1, maxLength: 20 }), 8),
      timestamp: opt(recentTime, 5),
      properties: opt(cleanObject, 6),
      traits: opt(cleanObject, 3),
      context: opt(cleanObject, 4),
      integrations: opt(fc.constant({ All: true }), 2),
    }),
  },
  // hostile anywhere
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.oneof({ weight: 8, arbitrary: fc.constantFrom<unknown>(...TYPES) }, { weight: 1, arbitrary: fc.constantFrom<unknown>('Track', '', 'unknown', 1, null, true, '\u0000', ['track']) }),
      userId: opt(idValue, 7),
      anonymousId: opt(idValue, 4),
      event: opt(textValue, 8),
      name: opt(textValue, 4),
      groupId: opt(idValue, 5),
      previousId: opt(idValue, 4),
      timestamp: opt(timestampArb, 5),
      originalTimestamp: opt(timestampArb, 2),
      sentAt: opt(timestampArb, 2),
      properties: opt(objectish, 6),
      traits: opt(objectish, 3),
      context: opt(objectish, 4),
      integrations: opt(objectish, 2),
    }),
  },
);

const ODD_IDS: unknown[] = [undefined, undefined, undefined, null, '', 0, 1, raw('-0'), 1.5, raw('1e400'), raw('123456789012345678901234567890'), true, false, {}, [], ['a'], { a: 1 }, '\u0000', 'id\u0000', '\ud800', 'id\udfff', 'x'.repeat(256), 'x'.repeat(255), ' '];
const idMode: fc.Arbitrary<IdMode> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.constantFrom('', '', '', ' ', 'é', '😀', '\u200b', '\t', '\\', '"', 'x'.repeat(200), 'ü'.repeat(100), '%20', '\n').map((decoration) => ({ kind: 'fresh' as const, decoration })),
  },
  { weight: 1, arbitrary: fc.nat().map((n) => ({ kind: 'reuse' as const, n })) },
);

const eventTemplate = (ids: fc.Arbitrary<IdMode>): fc.Arbitrary<EventTemplate> =>
  fc.record({
    fields: eventFields as fc.Arbitrary<Record<string, unknown>>,
    extra: fc.oneof({ weight: 4, arbitrary: fc.constant([] as [string, unknown][]) }, { weight: 1, arbitrary: fc.array(fc.tuple(hostileKey, hostileValue({ maxDepth: 2 })), { maxLength: 2 }) }),
    id: ids,
  });

const oddIdMode: fc.Arbitrary<IdMode> = fc.constantFrom(...ODD_IDS).map((value) => ({ kind: 'odd' as const, value }));

const genArb = (oddIds: boolean): fc.Arbitrary<Gen> => {
  const ids = oddIds ? oddIdMode : idMode;
  return fc.record({
    route: fc.oneof(fc.constantFrom(...Object.keys(SINGLE_ROUTES)), fc.constantFrom(...BATCH_ROUTES)),
    auth: fc.oneof({ weight: 12, arbitrary: fc.constantFrom<AuthMode>(...GOOD_AUTH) }, { weight: 2, arbitrary: fc.constantFrom<AuthMode>('none', 'unknown', 'revoked', 'read', 'admin', 'garbage', 'bearer') }),
    contentType: fc.constantFrom(
      undefined,
      'application/json',
      'application/json',
      'application/json; charset=utf-8',
      'application/json;charset=UTF-8',
      'APPLICATION/JSON',
      'application/json; charset=latin1',
      'text/plain',
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=----fuzz',
      'application/octet-stream',
      'application/csp-report',
      'application/vnd.api+json',
      'foo',
      '*/*',
      '',
      'text/html; charset=\xff',
    ),
    encoding: fc.oneof(
      { weight: 10, arbitrary: fc.constantFrom<Encoding>(...GOOD_ENCODINGS, 'none', 'none', 'gzip') },
      { weight: 2, arbitrary: fc.constantFrom<Encoding>('truncated-gzip', 'gzip-header-plain-body', 'gzip-body-no-header', 'br', 'gzip, deflate', 'deflate-raw', 'double-gzip', 'gzip-trailing-garbage', 'gzip-bomb') },
    ),
    mutation: fc.record({
      kind: fc.oneof(
        { weight: 16, arbitrary: fc.constant<Mutation>('none') },
        { weight: 2, arbitrary: fc.constantFrom<Mutation>('whitespace', 'bom', 'invalid-utf8', 'invalid-utf8') },
        { weight: 2, arbitrary: fc.constantFrom<Mutation>('raw-nul', 'empty', 'truncate', 'trailing', 'scalar', 'multipart', 'form', 'utf16', 'latin1') },
      ),
      at: fc.nat(),
      bytes: fc.constantFrom([0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0xfe, 0xff]),
      scalar: fc.constantFrom('null', '[]', '{}', '"str"', '123', 'true', '1e400', '[{"type":"track","userId":"u","event":"e"}]', '{"batch":{}}', '{"batch":"x"}', ' '),
    }),
    chunked: fc.boolean(),
    requestId: fc.constantFrom(undefined, undefined, 'fuzz-req-1', 'x'.repeat(129), 'a b', '\xff\xfe', '../../etc/passwd', ''),
    oddIds: fc.constant(oddIds),
    single: eventTemplate(ids),
    batch: fc.record({
      shape: fc.oneof(
        { weight: 60, arbitrary: fc.constant<BatchShape>('normal') },
        { weight: 1, arbitrary: fc.constantFrom<BatchShape>('max-count', 'over-count', 'near-bytes', 'over-bytes') },
        { weight: 2, arbitrary: fc.constantFrom<BatchShape>('batch-not-array', 'no-batch', 'array-body') },
      ),
      events: fc.array(eventTemplate(ids), { minLength: 0, maxLength: 10 }),
      context: opt(fc.oneof(cleanObject, hostileObject(), hostileValue()), 3),
      integrations: opt(fc.oneof(cleanObject, hostileValue()), 1),
      sentAt: opt(timestampArb, 2),
      top: fc.oneof({ weight: 5, arbitrary: fc.constant([] as [string, unknown][]) }, { weight: 1, arbitrary: fc.array(fc.tuple(hostileKey, hostileValue({ maxDepth: 2 })), { maxLength: 2 }) }),
      canaryAt: fc.nat(),
      notArray: hostileValue({ maxDepth: 2 }),
    }),
  });
};

/** JSON text with insignificant whitespace after every structural character outside strings. */
function spaceOut(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    out += c;
    if (inString) {
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === ',' || c === ':' || c === '[' || c === '{') out += ' \r\n\t';
  }
  return out;
}

// ---------- the suite ----------

describe(`ingest fuzz (FUZZ_SEED=${seed}, FUZZ_RUNS=${runs})`, () => {
  let t: TestApp;
  let client: FuzzClient;
  let maxEventBytes: number;
  let maxRequestBytes: number;
  let maxBatchEvents: number;
  const keys: Record<string, string> = {};
  /** Per source: named messageIds accepted (stored exactly once), and accepted events with no messageId (counted). */
  const expected = new Map<string, { named: Set<string>; unnamed: number; refusedOnly: Set<string> }>();
  const used: string[] = [];
  let serial = 0;
  const stats = { requests: 0, events: 0, accepted: 0, byStatus: new Map<number, number>(), started: Date.now() };
  /** Why requests and events were refused, for the summary (what the generators reach). */
  const reasons = new Map<string, number>();
  let main: { id: string; writeKey: string };
  let odd: { id: string; writeKey: string };

  beforeAll(async () => {
    t = await startApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    client = new FuzzClient((t.app.getHttpServer().address() as AddressInfo).port);
    ({ maxEventBytes, maxRequestBytes, maxBatchEvents } = t.config.limits);
    main = await createSource(t);
    odd = await createSource(t);
    for (const s of [main, odd]) expected.set(s.id, { named: new Set(), unnamed: 0, refusedOnly: new Set() });
    const admin = (path: string, body: object) => t.http.post(path).set('Authorization', `Bearer ${t.adminKey}`).send(body);
    keys.read = (await admin('/v1/admin/keys', { kind: 'read' })).body.key;
    keys.admin = t.adminKey;
    const doomed = (await admin('/v1/admin/keys', { kind: 'write', sourceId: main.id })).body;
    expect((await admin(`/v1/admin/keys/${doomed.id}/revoke`, {})).status).toBe(200);
    keys.revoked = doomed.key;
    keys.unknown = `sk_write_Zz9Yy8Xx_${'Q'.repeat(32)}`;
  });

  afterAll(async () => {
    client?.close();
    await t?.close();
  });

  const basic = (user: string) => `Basic ${Buffer.from(user).toString('base64')}`;

  function authHeaders(mode: AuthMode, writeKey: string): Record<string, string> {
    switch (mode) {
      case 'basic': return { Authorization: basic(`${writeKey}:`) };
      case 'basic-password': return { Authorization: basic(`${writeKey}:some-password`) };
      case 'basic-nocolon': return { Authorization: basic(writeKey) };
      case 'basic-lowercase': return { Authorization: `basic ${Buffer.from(`${writeKey}:`).toString('base64')}` };
      case 'x-write-key': return { 'X-Write-Key': writeKey };
      case 'body': case 'none': return {};
      case 'unknown': return { Authorization: basic(`${keys.unknown}:`) };
      case 'revoked': return { Authorization: basic(`${keys.revoked}:`) };
      case 'read': return { Authorization: basic(`${keys.read}:`) };
      case 'admin': return { Authorization: basic(`${keys.admin}:`) };
      case 'garbage': return { Authorization: 'Basic !!!\xff\xfe not base64 ===' };
      case 'bearer': return { Authorization: `Bearer ${writeKey}` };
    }
  }

  function messageIdFor(id: IdMode): unknown {
    if (id.kind === 'odd') return id.value;
    if (id.kind === 'reuse' && used.length > 0) return used[id.n % used.length];
    const fresh = `fz-${seed}-${++serial}${id.kind === 'fresh' ? id.decoration : ''}`;
    used.push(fresh);
    return fresh;
  }

  function eventObject(tpl: EventTemplate): Entries {
    const entries: [string, unknown][] = [];
    for (const [k, v] of Object.entries(tpl.fields)) if (v !== undefined) entries.push([k, v]);
    const mid = messageIdFor(tpl.id);
    if (mid !== undefined) entries.push(['messageId', mid]);
    entries.push(...tpl.extra);
    return new Entries(entries);
  }

  const CANARY = (): Entries => new Entries([['type', 'track'], ['userId', 'canary'], ['event', 'Canary'], ['properties', { ok: true }], ['messageId', messageIdFor({ kind: 'fresh', decoration: '-canary' })]]);
  const tiny = (): Entries => new Entries([['type', 'track'], ['userId', 'u'], ['event', 'e'], ['messageId', messageIdFor({ kind: 'fresh', decoration: '' })]]);

  interface Built {
    request: RawRequest;
    /** the bytes the server decodes (after Content-Encoding), to derive what it saw */
    plain: Buffer;
    isBatch: boolean;
    /** every condition under which a valid event must be accepted holds */
    clean: boolean;
    canaryIndex: number | null;
    credentialOk: boolean;
  }

  function build(g: Gen): Built {
    const source = g.oddIds ? odd : main;
    const isBatch = BATCH_ROUTES.includes(g.route);
    const bodyKey = g.auth === 'body' ? source.writeKey : undefined;
    let canaryIndex: number | null = null;
    let envelopeClean = true;
    let body: unknown;
    if (!isBatch) {
      const e = eventObject(g.single);
      if (bodyKey) e.entries.push(['writeKey', bodyKey]);
      body = e;
    } else {
      const b = g.batch;
      let events: unknown[];
      if (b.shape === 'max-count') events = Array.from({ length: maxBatchEvents }, tiny);
      else if (b.shape === 'over-count') events = Array.from({ length: maxBatchEvents + 1 }, tiny);
      else events = b.events.map((e) => eventObject(e));
      if (b.shape === 'normal' || b.shape === 'near-bytes' || b.shape === 'over-bytes') {
        canaryIndex = b.canaryAt % (events.length + 1);
        events.splice(canaryIndex, 0, CANARY());
      }
      const entries: [string, unknown][] = [['batch', b.shape === 'batch-not-array' ? b.notArray : events]];
      if (b.shape === 'no-batch') entries.length = 0;
      if (b.context !== undefined) entries.push(['context', b.context]);
      if (b.integrations !== undefined) entries.push(['integrations', b.integrations]);
      if (b.sentAt !== undefined) entries.push(['sentAt', b.sentAt]);
      entries.push(...b.top);
      if (bodyKey) entries.push(['writeKey', bodyKey]);
      body = b.shape === 'array-body' ? events : new Entries(entries);
      const envBytes = [b.context, b.integrations].filter((v) => v !== undefined).reduce((n: number, v) => n + Buffer.byteLength(toJson(v)), 0);
      envelopeClean =
        [b.context, b.integrations].every((v) => v === undefined || (isClean(v) && (v instanceof Entries || (!!v && typeof v === 'object' && !Array.isArray(v))))) &&
        (b.sentAt === undefined || b.sentAt instanceof RelTime) &&
        (b.sentAt === undefined || (b.sentAt as RelTime).offsetMs <= 0) &&
        b.top.length === 0 &&
        envBytes * events.length <= t.config.limits.maxContextFanoutBytes &&
        envBytes < maxEventBytes / 4;
      if (b.shape === 'near-bytes' || b.shape === 'over-bytes') {
        // Pad with events to just under, or just over, the request limit.
        const base = Buffer.byteLength(toJson(body));
        const target = b.shape === 'near-bytes' ? maxRequestBytes - 64 : maxRequestBytes + 1;
        const per = 20_000;
        let missing = target - base;
        while (missing > 0) {
          const pad = Math.min(per, missing - 120);
          const e = new Entries([['type', 'track'], ['userId', 'u'], ['event', 'pad'], ['messageId', messageIdFor({ kind: 'fresh', decoration: '-pad' })], ['properties', { p: 'p'.repeat(Math.max(0, pad)) }]]);
          events.push(e);
          missing -= Buffer.byteLength(toJson(e)) + 1;
        }
        if (b.shape === 'near-bytes') while (Buffer.byteLength(toJson(body)) > maxRequestBytes) events.pop();
      }
    }
    let text = toJson(body);
    // mutations of the JSON text / bytes
    let plain = Buffer.from(text, 'utf8');
    const m = g.mutation;
    const cut = (n: number) => (n === 0 ? 0 : m.at % n);
    switch (m.kind) {
      case 'whitespace': plain = Buffer.from(`\n\t  ${spaceOut(text)}  \n`); break;
      case 'bom': plain = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), plain]); break;
      case 'invalid-utf8': {
        // inside a string value, where a broken client would put it
        const starts = [...text.matchAll(/":"/g)].map((x) => x.index! + 3);
        const pos = starts.length ? Buffer.byteLength(text.slice(0, starts[cut(starts.length)])) : cut(plain.length);
        plain = Buffer.concat([plain.subarray(0, pos), Buffer.from(m.bytes), plain.subarray(pos)]);
        break;
      }
      case 'raw-nul': {
        const starts = [...text.matchAll(/":"/g)].map((x) => x.index! + 3);
        const pos = starts.length ? Buffer.byteLength(text.slice(0, starts[cut(starts.length)])) : 0;
        plain = Buffer.concat([plain.subarray(0, pos), Buffer.from([0]), plain.subarray(pos)]);
        break;
      }
      case 'empty': plain = Buffer.alloc(0); break;
      case 'truncate': plain = plain.subarray(0, cut(plain.length)); break;
      case 'trailing': plain = Buffer.concat([plain, Buffer.from(['}', ' x', '\u0000', ',{}', '\n{"a":1}'][m.at % 5])]); break;
      case 'scalar': text = m.scalar; plain = Buffer.from(text); break;
      case 'multipart': plain = Buffer.from(`------fuzz\r\nContent-Disposition: form-data; name="data"\r\nContent-Type: application/json\r\n\r\n${text}\r\n------fuzz--\r\n`); break;
      case 'form': plain = Buffer.from(`data=${encodeURIComponent(text.isWellFormed() ? text : 'x')}&writeKey=${source.writeKey}`); break;
      case 'utf16': plain = Buffer.concat([m.at % 2 ? Buffer.from([0xff, 0xfe]) : Buffer.alloc(0), Buffer.from(text, 'utf16le')]); break;
      // Latin-1 bytes (é is 0xE9, not UTF-8); characters beyond Latin-1 become é
      case 'latin1': plain = Buffer.from([...text].map((c) => (c.charCodeAt(0) > 0xff ? 'é' : c)).join(''), 'latin1'); break;
    }
    // content encoding
    let wire = plain;
    let encodingHeader: string | undefined;
    switch (g.encoding) {
      case 'none': break;
      case 'identity': encodingHeader = 'identity'; break;
      case 'gzip': case 'x-gzip': case 'GZIP': case ' gzip ': encodingHeader = g.encoding; wire = gzipSync(plain); break;
      case 'deflate': encodingHeader = 'deflate'; wire = deflateSync(plain); break;
      case 'truncated-gzip': encodingHeader = 'gzip'; wire = gzipSync(plain); wire = wire.subarray(0, Math.max(1, cut(wire.length))); break;
      case 'gzip-header-plain-body': encodingHeader = 'gzip'; break;
      case 'gzip-body-no-header': wire = gzipSync(plain); break;
      case 'br': encodingHeader = 'br'; break;
      case 'gzip, deflate': encodingHeader = 'gzip, deflate'; wire = deflateSync(gzipSync(plain)); break;
      case 'deflate-raw': encodingHeader = 'deflate'; wire = deflateRawSync(plain); break;
      case 'double-gzip': encodingHeader = 'gzip'; wire = gzipSync(gzipSync(plain)); break;
      case 'gzip-trailing-garbage': encodingHeader = 'gzip'; wire = Buffer.concat([gzipSync(plain), Buffer.from('garbage!')]); break;
      case 'gzip-bomb': encodingHeader = 'gzip'; plain = Buffer.concat([plain, Buffer.alloc(maxRequestBytes + 10, 0x20)]); wire = gzipSync(plain); break;
    }
    const headers: Record<string, string | undefined> = { ...authHeaders(g.auth, source.writeKey), 'Content-Type': g.contentType, 'Content-Encoding': encodingHeader, 'X-Request-Id': g.requestId };
    const credentialOk = GOOD_AUTH.includes(g.auth);
    const clean =
      credentialOk &&
      GOOD_ENCODINGS.includes(g.encoding) &&
      (m.kind === 'none' || m.kind === 'whitespace') &&
      envelopeClean &&
      !hasPoisonKey(body) &&
      plain.length <= maxRequestBytes;
    return { request: { method: 'POST', path: `/v1/${g.route}`, headers, body: wire, chunked: g.chunked ? 1 + (m.at % 4096) : undefined }, plain, isBatch, clean, canaryIndex, credentialOk };
  }

  /** What the server parsed (the same decoding and BOM rule as Fastify's JSON parser), or undefined. */
  function parsed(plain: Buffer): unknown {
    let text = plain.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  }

  const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

  /** The event as the server sizes it: with the batch context/integrations merged in. */
  function storedBytes(e: Record<string, unknown>, envelope: Record<string, unknown> | undefined): number {
    const ctx = envelope && isObj(envelope.context) ? envelope.context : undefined;
    const integ = envelope && isObj(envelope.integrations) ? envelope.integrations : undefined;
    const own = (v: unknown) => (isObj(v) ? v : {});
    const merged = { ...e, ...(ctx ? { context: { ...ctx, ...own(e.context) } } : {}), ...(integ ? { integrations: { ...integ, ...own(e.integrations) } } : {}) };
    return Buffer.byteLength(JSON.stringify(merged));
  }

  function check(g: Gen, b: Built, res: RawResponse): void {
    const fail = (why: string) => {
      throw new Error(`${why}\n  request: ${describeRequest(b.request)}\n  answer: ${res.status} ${res.text.slice(0, 800)}`);
    };
    stats.byStatus.set(res.status, (stats.byStatus.get(res.status) ?? 0) + 1);
    const rj = res.json as { reason?: string; rejected?: { reason: string }[] } | undefined;
    for (const reason of [res.status >= 400 ? `${res.status}:${rj?.reason ?? '-'}` : null, ...(rj?.rejected ?? []).map((x) => `event:${x.reason}`)]) if (reason) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    if (res.status >= 500) fail(`a ${res.status}`);
    if (res.status >= 400) {
      const p = errorShapeProblem(res);
      if (p) fail(p);
    }
    if (!res.headers['x-request-id']) fail('no X-Request-Id on the answer');
    if (res.status >= 200 && res.status < 300 && !b.credentialOk) fail(`accepted with credential mode "${g.auth}"`);
    if (!b.credentialOk && ![400, 401, 403, 413, 415].includes(res.status)) fail(`credential mode "${g.auth}" got ${res.status}`);
    if (res.status === 403 && !['read', 'admin'].includes(g.auth)) fail('403 for a credential that is not a read or admin key');

    const body = parsed(b.plain);
    const source = g.oddIds ? odd : main;
    const exp = expected.get(source.id)!;
    const events: unknown[] = b.isBatch ? (isObj(body) && Array.isArray(body.batch) ? body.batch : []) : [body];
    const envelope = b.isBatch && isObj(body) ? body : undefined;
    stats.events += events.length;

    if (res.status === 200) {
      const r = res.json as { success?: unknown; accepted?: unknown; rejected?: unknown };
      if (!r || r.success !== true || typeof r.accepted !== 'number' || !Array.isArray(r.rejected)) fail('a 200 without success/accepted/rejected');
      const rejected = r.rejected as { index: unknown; reason: unknown; message: unknown }[];
      if (body === undefined) fail('a 200 for a body that is not JSON');
      const indices = new Set<number>();
      for (const x of rejected) {
        if (typeof x.index !== 'number' || x.index < 0 || x.index >= events.length || indices.has(x.index)) fail(`bad rejected index ${String(x.index)}`);
        if (typeof x.reason !== 'string' || typeof x.message !== 'string' || !x.message) fail('a rejected event without reason and message');
        indices.add(x.index as number);
      }
      if ((r.accepted as number) < 1 || (r.accepted as number) + rejected.length !== events.length) fail(`accepted ${String(r.accepted)} + rejected ${rejected.length} != ${events.length} events`);
      if (!b.isBatch && rejected.length > 0) fail('a single-event route answered 200 with a rejection');
      events.forEach((e, i) => {
        if (indices.has(i)) {
          if (isObj(e) && typeof e.messageId === 'string' && e.messageId !== '' && !exp.named.has(e.messageId)) exp.refusedOnly.add(e.messageId);
          return;
        }
        stats.accepted++;
        if (!isObj(e)) fail(`event ${i} accepted but not an object`);
        const ev = e as Record<string, unknown>;
        const size = storedBytes(ev, envelope);
        if (size > maxEventBytes) fail(`event ${i} accepted at ${size} bytes as stored (MAX_EVENT_BYTES ${maxEventBytes})`);
        if (typeof ev.messageId === 'string' && ev.messageId !== '') {
          exp.named.add(ev.messageId);
          exp.refusedOnly.delete(ev.messageId);
        } else exp.unnamed++;
      });
      if (b.canaryIndex !== null && indices.has(b.canaryIndex) && b.clean) fail('the valid canary event was rejected');
    } else {
      for (const e of events) if (isObj(e) && typeof e.messageId === 'string' && e.messageId !== '' && !exp.named.has(e.messageId)) exp.refusedOnly.add(e.messageId);
      if (b.clean && b.canaryIndex !== null) fail('a clean batch holding a valid event was refused as a whole');
    }
  }

  it(`answers ${runs} generated requests on every ingestion route without a 5xx, with JSON errors`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 7, arbitrary: genArb(false) }, { weight: 1, arbitrary: genArb(true) }), async (g) => {
        const b = build(g);
        stats.requests++;
        let res: RawResponse;
        try {
          res = await client.send(b.request);
        } catch (err) {
          throw new Error(`no answer (${(err as Error).message})\n  request: ${describeRequest(b.request)}`);
        }
        check(g, b, res);
      }),
      { seed, numRuns: runs, endOnFailure: false },
    );
    expect((await client.send({ method: 'GET', path: '/health/live' })).status).toBe(200);
  });

  it('stores every accepted event exactly once (events or dead_letters), and nothing it refused', async () => {
    await waitForDrain(t.config.redis.prefix, 90_000);
    const problems: string[] = [];
    let stored = 0;
    let dead = 0;
    for (const [sourceId, exp] of expected) {
      const rows = await withDb(async (db) => ({
        events: (await db.query('SELECT message_id, count(*)::int AS n FROM events WHERE source_id = $1 GROUP BY message_id', [sourceId])).rows as { message_id: string; n: number }[],
        dead: (await db.query('SELECT message_id, reason_code, min(reason) AS reason, min(payload_text) AS payload, count(*)::int AS n FROM dead_letters WHERE source_id = $1 GROUP BY message_id, reason_code', [sourceId])).rows as { message_id: string; reason_code: string; reason: string; payload: string; n: number }[],
      }));
      const count = new Map<string, number>();
      for (const r of [...rows.events, ...rows.dead]) count.set(r.message_id, (count.get(r.message_id) ?? 0) + r.n);
      stored += rows.events.reduce((n, r) => n + r.n, 0);
      dead += rows.dead.reduce((n, r) => n + r.n, 0);
      for (const r of rows.dead) problems.push(`dead letter ${JSON.stringify(r.message_id)} (${r.reason_code}: ${r.reason.slice(0, 300)}): the door let through what the worker could not store; payload ${r.payload.slice(0, 1500)}`);
      for (const id of exp.named) {
        const n = count.get(id) ?? 0;
        if (n !== 1) problems.push(`accepted messageId ${JSON.stringify(id.slice(0, 80))} stored ${n} times`);
      }
      let generated = 0;
      for (const [id, n] of count) {
        if (exp.named.has(id)) continue;
        if (/^api-[0-9a-f-]{36}$/.test(id)) generated += n;
        else problems.push(`messageId ${JSON.stringify(id.slice(0, 80))} stored (${n}) but never accepted${exp.refusedOnly.has(id) ? ' (it was refused)' : ''}`);
      }
      if (generated !== exp.unnamed) problems.push(`source ${sourceId}: ${exp.unnamed} accepted events without messageId, ${generated} rows with a generated one`);
    }
    const seconds = ((Date.now() - stats.started) / 1000).toFixed(1);
    console.log(
      `ingest fuzz: FUZZ_SEED=${seed} FUZZ_RUNS=${runs}: ${stats.requests} requests (incl. shrinking), ${stats.events} events sent, ${stats.accepted} accepted, ` +
        `${stored} rows in events, ${dead} in dead_letters, ${seconds} s\n  statuses ${JSON.stringify(Object.fromEntries([...stats.byStatus].sort((a, b) => a[0] - b[0])))}\n` +
        `  refusals ${JSON.stringify(Object.fromEntries([...reasons].sort((a, b) => b[1] - a[1])))}`,
    );
    expect(problems.slice(0, 50)).toEqual([]);
    expect((await client.send({ method: 'GET', path: '/health/live' })).status).toBe(200);
  });
});
