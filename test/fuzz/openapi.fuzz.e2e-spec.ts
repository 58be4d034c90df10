import fc from 'fast-check';
import { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { ADMIN_TOKEN, createSource, startApp, TestApp } from '../support/app';
import { describeRequest, errorShapeProblem, FuzzClient, RawRequest, RawResponse } from '../support/fuzz-http';
import { deepNesting, Entries, fuzzSettings, HOSTILE_NUMBERS, HOSTILE_STRINGS, hostileValue, jsonValue, raw, RawJson, toJson } from '../support/fuzz-json';

/**
 * OpenAPI-driven fuzzing of the whole API: the document at /docs-json names every operation;
 * for each, path parameters, query parameters and bodies are generated from its schema, valid
 * and hostile, and sent with every kind of credential. Per request: never a 5xx, never a hang,
 * every 4xx a JSON error with a message (and never a database data error behind it), nothing
 * succeeds with a credential the route does not take, and nothing but a malformed request is
 * told so before it is authenticated. The app is live after every operation.
 *
 * FUZZ_SEED=<n> replays a run; FUZZ_RUNS=<n> is the total number of requests (spread evenly
 * over every operation and credential kind).
 */
const { seed, runs } = fuzzSettings(8000);

interface Schema {
  type?: string;
  format?: string;
  enum?: unknown[];
  maximum?: number;
  minimum?: number;
  nullable?: boolean;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  $ref?: string;
}
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: Schema;
}
interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  body: Schema | null;
  security: string[];
}

/** The kinds of the fixture keys, by position in the pool (rotated keys join at the end, unordered). */
const VICTIM_KINDS = ['read', 'write', 'admin'] as const;

const CREDENTIALS = ['none', 'malformed', 'unknown', 'write', 'read', 'read-scoped', 'admin', 'admin-token'] as const;
type Credential = (typeof CREDENTIALS)[number];

/** Which credentials a route takes (README: keys, limits and the audit log). */
function allowed(op: Operation): (c: Credential, sourceParam: string | undefined, mainSource: string) => boolean {
  if (/^\/(health|metrics)/.test(op.path)) return () => true;
  // The console's "who am I": every valid key may ask about itself (the bootstrap token may not).
  if (op.path === '/v1/me') return (c) => c === 'admin' || c === 'read' || c === 'read-scoped' || c === 'write';
  if (op.path.startsWith('/v1/admin/')) return (c) => c === 'admin' || (c === 'admin-token' && op.method === 'POST' && op.path === '/v1/admin/keys');
  if (op.path.startsWith('/v1/sources/')) return (c, sourceParam, main) => c === 'admin' || c === 'read' || (c === 'read-scoped' && sourceParam === main);
  return (c) => c === 'write';
}

/** A fixture id chosen at send time (fixtures are replaced as destructive operations use them up). */
class PoolRef {
  constructor(
    readonly pool: 'source' | 'key',
    readonly n: number,
  ) {}
}

const MALFORMED_AUTH = [
  'Bearer',
  'Bearer ',
  'Bearer a b c',
  'Basic ###',
  `Basic ${Buffer.from(':').toString('base64')}`,
  `Basic ${Buffer.from('\u0000:').toString('base64')}`,
  'Digest username="x", realm="y"',
  `Bearer ${'A'.repeat(8000)}`,
  'Bearer sk_admin_',
  'Bearer sk_admin_short_secret',
  'bearer\t\tsk_write_',
  'Bearer \xff\xfe\xfd',
  'Basic \xff\xff\xff\xff',
  'Token abc',
  ', Bearer x',
  `Bearer ${'sk_admin_AAAAAAAA_'}${'A'.repeat(31)}`,
];

const KEY_ALPHABET = [...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'];
const keyPart = (n: number) => fc.string({ unit: fc.constantFrom(...KEY_ALPHABET), minLength: n, maxLength: n });
const unknownKey = fc.tuple(fc.constantFrom('write', 'read', 'admin'), keyPart(8), keyPart(32)).map(([k, id, secret]) => `sk_${k}_${id}_${secret}`);

/** Path segments that must never reach a route as a mangled parameter (already percent-encoded). */
const HOSTILE_SEGMENTS = [
  '%ED%A0%80',
  '%ED%BF%BF',
  '%ZZ',
  '%',
  '%0',
  '%00',
  '%C0%80',
  '%FF',
  '%E2%82',
  '%F4%90%80%80',
  '%2F',
  '%2e%2e',
  '..',
  '.',
  '%20',
  '-1',
  '0',
  '1e400',
  '1.5',
  '123456789012345678901234567890',
  '9223372036854775808',
  '00000000-0000-0000-0000-000000000000',
  'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
  '%7B5b0e6c7e-8a0b-4c51-9b8e-0c1f3a0d8e21%7D',
  '5b0e6c7e-8a0b-4c51-9b8e-0c1f3a0d8e2',
  '5b0e6c7e-8a0b-4c51-9b8e-0c1f3a0d8e211',
  '5b0e6c7e8a0b4c519b8e0c1f3a0d8e21',
  'null',
  'undefined',
  '__proto__',
  'x'.repeat(10_000),
  '%F0%9F%98%80',
  encodeURIComponent('é'.repeat(300)),
  '%3Bx',
  '%3F',
  '%23',
];

/** Percent-encoding as UTF-8, lone surrogates included (as their 3-byte sequences, %ED%A0%80). */
function wtf8(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) {
      out += encodeURIComponent(s.slice(i, i + 2));
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) out += [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    else out += encodeURIComponent(s[i]);
  }
  return out;
}

/** A query value: encoded text (valid or hostile), or raw bytes that are not valid percent-encoding. */
class RawQuery {
  constructor(readonly text: string) {}
}

/** A query parameter whose name the document gives as a template (`properties.<name>`), as sent. */
class Named {
  constructor(
    readonly name: string,
    readonly value: unknown,
  ) {}
}

/** What fills a `<placeholder>` of a templated parameter name: names that may be meant, and others. */
const PLACEHOLDER_VALID = fc.constantFrom('plan', 'revenue', 'a_b', 'x1', '$v', '@t', 'a-b', 'library.name', 'a.b.c');
const PLACEHOLDER_HOSTILE = fc.constantFrom('', '.', 'a..b', 'a.b.c.d.e', '%00', '%ED%A0%80', 'x'.repeat(101), 'é', '__proto__', 'constructor.prototype', '<name>', '*', "'; --");

const RAW_QUERY = ['%', '%ZZ', '%ED%A0%80', '%C0%80', '%FF', '%00', '%E2%82', '%%', '+', '%2B', '%26', '%3D', '&&', '=', 'a=b=c'].map((t) => new RawQuery(t));

describe(`OpenAPI fuzz of every operation (FUZZ_SEED=${seed}, FUZZ_RUNS=${runs})`, () => {
  let t: TestApp;
  let client: FuzzClient;
  let doc: { paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: Schema }> }; security?: Record<string, string[]>[] }>>; components: { schemas: Record<string, Schema> } };
  let main: { id: string; writeKey: string };
  const creds: Record<string, string> = {};
  const pools: { source: string[]; key: string[] } = { source: [], key: [] };
  const stats = { requests: 0, byOperation: new Map<string, Map<number, number>>(), started: Date.now() };

  const admin = (method: 'post' | 'get', path: string, body?: object) => {
    const r = t.http[method](path).set('Authorization', `Bearer ${t.adminKey}`);
    return body ? r.send(body) : r;
  };
  async function newVictimSource(): Promise<string> {
    const s = await createSource(t);
    return s.id;
  }
  async function newVictimKey(kind: 'read' | 'write' | 'admin'): Promise<string> {
    const spec = kind === 'write' ? { kind, sourceId: pools.source[0] ?? main.id, name: 'victim' } : { kind, name: 'victim' };
    const res = await admin('post', '/v1/admin/keys', spec);
    if (res.status !== 201) throw new Error(`fixture key: ${res.status} ${res.text}`);
    return res.body.id;
  }

  beforeAll(async () => {
    t = await startApp({ API_RATE_LIMIT_RPS: '0', RATE_LIMIT_RPS: '0' });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    client = new FuzzClient((t.app.getHttpServer().address() as AddressInfo).port);
    main = await createSource(t);
    creds.write = main.writeKey;
    creds.read = (await admin('post', '/v1/admin/keys', { kind: 'read', name: 'fuzz-read' })).body.key;
    creds['read-scoped'] = (await admin('post', '/v1/admin/keys', { kind: 'read', sourceIds: [main.id], name: 'fuzz-read-scoped' })).body.key;
    creds.admin = t.adminKey;
    creds['admin-token'] = ADMIN_TOKEN;
    for (let i = 0; i < 4; i++) pools.source.push(await newVictimSource());
    for (let k = 0; k < 6; k++) pools.key.push(await newVictimKey(VICTIM_KINDS[k % 3]));
    doc = (await t.http.get('/docs-json')).body;
  });

  afterAll(async () => {
    client?.close();
    await t?.close();
  });

  const resolveRef = (s: Schema): Schema => (s.$ref ? resolveRef(doc.components.schemas[s.$ref.replace('#/components/schemas/', '')]) : s);

  function operations(): Operation[] {
    const ops: Operation[] = [];
    for (const [path, methods] of Object.entries(doc.paths))
      for (const [method, o] of Object.entries(methods)) {
        const body = o.requestBody ? Object.values(o.requestBody.content)[0].schema : null;
        ops.push({ method: method.toUpperCase(), path, parameters: o.parameters ?? [], body, security: (o.security ?? []).flatMap((x) => Object.keys(x)) });
      }
    return ops;
  }

  // ---------- values from schemas ----------

  const isoDate = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2035-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());

  /** A value the schema describes (field names that hold ids get fixture ids). */
  function validValue(s: Schema, name: string, depth = 0, opPath = ''): fc.Arbitrary<unknown> {
    s = resolveRef(s);
    const byName = validByName(name, opPath);
    if (byName) return byName;
    let arb: fc.Arbitrary<unknown>;
    if (s.enum) arb = fc.constantFrom(...s.enum);
    else if (s.type === 'string' && s.format === 'date-time') arb = isoDate;
    else if (s.type === 'string') arb = fc.string({ minLength: 1, maxLength: 40 });
    else if (s.type === 'number' || s.type === 'integer') arb = fc.integer({ min: s.minimum ?? 0, max: Math.min(s.maximum ?? 1_000_000, Number.MAX_SAFE_INTEGER) });
    else if (s.type === 'boolean') arb = fc.boolean();
    else if (s.type === 'array') arb = fc.array(validValue(s.items ?? {}, name, depth + 1, opPath), { maxLength: 3 });
    else if (s.type === 'object' && s.properties && depth < 3) arb = objectOf(s, depth, opPath);
    else if (s.type === 'object') arb = jsonValue(2).map((v) => (v && typeof v === 'object' && !Array.isArray(v) ? v : { v }));
    else arb = jsonValue(1);
    return s.nullable ? fc.oneof({ weight: 5, arbitrary: arb }, { weight: 1, arbitrary: fc.constant(null) }) : arb;
  }

  function validByName(name: string, opPath: string): fc.Arbitrary<unknown> | null {
    switch (name) {
      case 'id':
        return fc.oneof(fc.nat().map((n) => new PoolRef(n % 2 ? 'source' : 'key', n)), fc.uuid());
      case 'sourceId':
        return fc.oneof(fc.nat().map((n) => new PoolRef('source', n)), fc.constant('main'), fc.uuid());
      case 'sourceIds':
        return fc.array(fc.oneof(fc.nat().map((n) => new PoolRef('source', n)), fc.constant('main')), { maxLength: 3 });
      case 'cursor':
        return opPath.startsWith('/v1/admin/audit')
          ? fc.bigInt({ min: 1n, max: 9223372036854775807n }).map(String)
          : fc.tuple(isoDate, fc.string({ maxLength: 20 })).map((c) => Buffer.from(JSON.stringify(c)).toString('base64url'));
      case 'includeRevoked':
        return fc.constantFrom('true', 'false');
      case 'limit':
        return fc.integer({ min: 1, max: 1000 });
      case 'overlapSeconds':
        return fc.integer({ min: 0, max: 30 * 24 * 3600 });
      case 'writeKey':
        return fc.constant('main-write-key');
      case 'timestamp':
      case 'sentAt':
      case 'originalTimestamp':
        return fc.integer({ min: -3_600_000, max: 0 }).map((ms) => new Date(Date.now() + ms).toISOString());
      case 'batch':
        return fc.array(objectOf(resolveRef(doc.components.schemas.BatchEventDto), 1), { minLength: 1, maxLength: 5 });
      default:
        return null;
    }
  }

  function objectOf(s: Schema, depth: number, opPath = ''): fc.Arbitrary<Record<string, unknown>> {
    const props = s.properties ?? {};
    const required = new Set(s.required ?? []);
    const model: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [k, p] of Object.entries(props)) model[k] = required.has(k) ? validValue(p, k, depth + 1, opPath) : fc.option(validValue(p, k, depth + 1, opPath), { nil: undefined, freq: 2 });
    return fc.record(model).map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)));
  }

  /** What a hostile client puts where the schema wants something else. */
  const hostile: fc.Arbitrary<unknown> = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
    { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_NUMBERS).map(raw) },
    { weight: 2, arbitrary: fc.constantFrom<unknown>([], ['a'], [1, 2], {}, { a: 1 }, true, false, null, 'true', '1', -1, 0, 1.5, 2147483648, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 'x'.repeat(10_000)) },
    { weight: 1, arbitrary: deepNesting },
    { weight: 1, arbitrary: hostileValue({ maxDepth: 2 }) },
  );

  /** A query or path value as text: what a schema-valid value looks like in a URL, or hostile text. */
  const asText = (v: unknown): string => (typeof v === 'string' ? v : v instanceof RawJson ? v.text : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));

  // ---------- one request ----------

  /** Valid (every value from the schema, a JSON body) or hostile (anything goes, anywhere). */
  const caseArb = (op: Operation) =>
    fc.oneof(
      { weight: 2, arbitrary: caseOf(op, true).map((c) => ({ ...c, fault: undefined })) },
      // everything valid but one parameter or the body: each check is reached with its hostile value
      { weight: 3, arbitrary: fc.tuple(caseOf(op, true), faultOf(op)).map(([c, fault]) => ({ ...c, fault })) },
      { weight: 2, arbitrary: caseOf(op, false).map((c) => ({ ...c, fault: undefined })) },
    );

  /** One hostile value for one of the operation's parameters, or a mutation of its body. */
  const faultOf = (op: Operation) =>
    fc.record({
      index: fc.nat(),
      path: fc.record(Object.fromEntries(op.parameters.filter((p) => p.in === 'path').map((p) => [p.name, fc.oneof(fc.constantFrom(...HOSTILE_SEGMENTS).map((s) => ({ v: undefined as unknown, raw: s as string | undefined })), hostileFor(p.name).map((x) => ({ v: x, raw: undefined as string | undefined })))]))),
      query: fc.record(
        Object.fromEntries(
          op.parameters
            .filter((p) => p.in === 'query')
            .map((p) => {
              const value = fc.oneof({ weight: 4, arbitrary: hostileFor(p.name) }, { weight: 1, arbitrary: fc.constantFrom(...RAW_QUERY) }, { weight: 1, arbitrary: fc.array(validValue(p.schema, p.name, 0, op.path), { minLength: 2, maxLength: 3 }) });
              if (!p.name.includes('<')) return [p.name, value];
              // a templated name: the hostile part is its value or the name itself
              const named = fc.oneof(fc.tuple(PLACEHOLDER_VALID, value), fc.tuple(PLACEHOLDER_HOSTILE, validValue(p.schema, p.name, 0, op.path)));
              return [p.name, named.map(([seg, v]) => new Named(p.name.replace(/<[^>]+>/g, seg), v))];
            }),
        ),
      ),
      body: op.body ? fc.tuple(validValue(op.body, '', 0, op.path), fc.nat(), hostile, fc.constantFrom('unknown', 'replace', 'replace', 'drop')).map(([v, n, h, how]) => ({ kind: 'mutated' as const, v: mutate(v, n, h, how) })) : fc.constant(undefined),
    });

  const caseOf = (op: Operation, valid: boolean) => {
    const v = (p: Parameter) => validValue(p.schema, p.name, 0, op.path);
    const pathParam = (p: Parameter) =>
      valid
        ? v(p).map((x) => ({ v: x as unknown, raw: undefined as string | undefined }))
        : fc.oneof(
            { weight: 3, arbitrary: v(p).map((x) => ({ v: x as unknown, raw: undefined as string | undefined })) },
            { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_SEGMENTS).map((s) => ({ v: undefined as unknown, raw: s as string | undefined })) },
            { weight: 1, arbitrary: hostileFor(p.name).map((x) => ({ v: x, raw: undefined as string | undefined })) },
          );
    const queryParam = (p: Parameter): fc.Arbitrary<unknown> =>
      p.name.includes('<')
        ? fc
            .tuple(valid ? PLACEHOLDER_VALID : fc.oneof(PLACEHOLDER_VALID, PLACEHOLDER_HOSTILE), untemplated(p))
            .map(([seg, value]) => (value === undefined ? undefined : new Named(p.name.replace(/<[^>]+>/g, seg), value)))
        : untemplated(p);
    const untemplated = (p: Parameter) =>
      valid
        ? fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: v(p) })
        : fc.oneof(
            { weight: 4, arbitrary: fc.constant(undefined) },
            { weight: 4, arbitrary: v(p) },
            { weight: 2, arbitrary: hostileFor(p.name) },
            { weight: 1, arbitrary: fc.constantFrom(...RAW_QUERY) },
            { weight: 1, arbitrary: fc.array(v(p), { minLength: 2, maxLength: 3 }) },
          );
    const extraQuery = fc.array(fc.tuple(fc.constantFrom('foo', 'limit[]', 'kind[a]', '__proto__', 'constructor', '', '%ZZ', 'x'.repeat(2000)), fc.oneof(hostile, fc.constantFrom(...RAW_QUERY))), { maxLength: 3 });
    return fc.record({
      credHeader: fc.record({
        malformed: fc.constantFrom(...MALFORMED_AUTH),
        unknown: unknownKey,
        form: fc.constantFrom('bearer', 'bearer', 'basic', 'x-write-key'),
      }),
      path: fc.record(Object.fromEntries(op.parameters.filter((p) => p.in === 'path').map((p) => [p.name, pathParam(p)]))),
      query: fc.tuple(
        fc.record(Object.fromEntries(op.parameters.filter((p) => p.in === 'query').map((p) => [p.name, queryParam(p)]))),
        // unknown parameters, and raw garbage
        valid ? fc.constant([] as [string, unknown][]) : fc.oneof({ weight: 6, arbitrary: fc.constant([] as [string, unknown][]) }, { weight: 1, arbitrary: extraQuery }),
      ),
      body: valid ? (op.body ? validValue(op.body, '', 0, op.path).map((x) => ({ kind: 'valid' as const, v: x })) : fc.constant({ kind: 'none' as const })) : fc.oneof(...bodyArbs(op)),
      contentType: valid
        ? fc.constantFrom('application/json', 'application/json; charset=utf-8')
        : fc.constantFrom('application/json', 'application/json', 'application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', undefined, 'application/x-www-form-urlencoded', 'foo', 'application/json; charset=latin1'),
      gzip: fc.constantFrom(false, false, false, true),
      requestId: fc.constantFrom(undefined, undefined, 'fuzz-1', 'x'.repeat(200), '\xff', ''),
    });
  };

  /** Hostile values; cursors also as well-formed base64url JSON of what no page ever returned. */
  function hostileFor(name: string): fc.Arbitrary<unknown> {
    if (name !== 'cursor') return hostile;
    const cursor = fc
      .tuple(
        fc.constantFrom<unknown>('1', '2024', 'Tue', '+275760-09-13T00:00:00.000Z', '-000001-01-01T00:00:00Z', '10000-01-01T00:00:00Z', '0000-01-01T00:00:00Z', '2024-02-30T00:00:00Z', '2024-01-01 00:00:00 junk', 1, 0, -1, 1e308, null, true, {}, [], '\u0000'),
        fc.constantFrom<unknown>('x', 'a\u0000b', '\ud800', '', 5, null, {}, ['m']),
      )
      .map((c) => Buffer.from(JSON.stringify(c)).toString('base64url'));
    const shapes = fc.constantFrom('W10', 'bnVsbA', 'e30', 'MQ', 'WyJ4Il0', Buffer.from('["2024-01-01T00:00:00.000Z","x","extra"]').toString('base64url'), Buffer.from('{"0":"2024-01-01T00:00:00Z","1":"x"}').toString('base64url'));
    return fc.oneof({ weight: 1, arbitrary: hostile }, { weight: 3, arbitrary: cursor }, { weight: 1, arbitrary: shapes }, { weight: 1, arbitrary: fc.bigInt({ min: 9223372036854775807n, max: 99999999999999999999n }).map(String) });
  }

  function bodyArbs(op: Operation) {
    const texts = fc.constantFrom('', '{', '{"a":}', 'null', '[]', '{"a":1}{"b":2}', '\xef\xbb\xbf{}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}').map((text) => ({ kind: 'text' as const, text }));
    const hostileBody = hostile.map((v) => ({ kind: 'hostile' as const, v }));
    if (!op.body) return [{ weight: 8, arbitrary: fc.constant({ kind: 'none' as const }) }, { weight: 1, arbitrary: hostileBody }, { weight: 1, arbitrary: texts }];
    const schema = op.body;
    return [
      { weight: 6, arbitrary: validValue(schema, '').map((v) => ({ kind: 'valid' as const, v })) },
      { weight: 4, arbitrary: fc.tuple(validValue(schema, ''), fc.nat(), hostile, fc.constantFrom('unknown', 'replace', 'drop')).map(([v, n, h, how]) => ({ kind: 'mutated' as const, v: mutate(v, n, h, how) })) },
      { weight: 1, arbitrary: hostileBody },
      { weight: 1, arbitrary: texts },
    ];
  }

  function mutate(v: unknown, n: number, h: unknown, how: string): unknown {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return h;
    const entries = Object.entries(v as Record<string, unknown>);
    if (how === 'unknown' || entries.length === 0) return new Entries([...entries, [['extra', 'isAdmin', '__proto__', 'kind', 'id', 'createdAt'][n % 6], h]]);
    const i = n % entries.length;
    if (how === 'drop') return new Entries(entries.filter((_, j) => j !== i));
    entries[i] = [entries[i][0], h];
    return new Entries(entries);
  }

  /** The credential a body's "writeKey" carries: the case's own. */
  let bodyKey = '';
  function resolve(v: unknown): unknown {
    if (v instanceof PoolRef) {
      const pool = pools[v.pool];
      return pool[v.n % pool.length];
    }
    if (v === 'main') return main.id;
    if (v === 'main-write-key') return bodyKey;
    if (Array.isArray(v)) return v.map(resolve);
    if (v instanceof Entries) return new Entries(v.entries.map(([k, x]) => [k, resolve(x)]));
    if (v && typeof v === 'object' && !(v instanceof RawJson)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
    return v;
  }

  type Generated = ReturnType<typeof caseArb> extends fc.Arbitrary<infer T> ? T : never;

  function build(op: Operation, cred: Credential, g: Generated): { request: RawRequest; sourceParam: string | undefined } {
    if (g.fault) {
      // put the one hostile value in its place
      const targets = [...Object.keys(g.fault.path).map((k) => ['path', k]), ...Object.keys(g.fault.query).map((k) => ['query', k]), ...(g.fault.body ? [['body', '']] : [])];
      if (targets.length) {
        const [where, name] = targets[g.fault.index % targets.length];
        if (where === 'path') g = { ...g, path: { ...g.path, [name]: g.fault.path[name] } };
        else if (where === 'query') g = { ...g, query: [{ ...(g.query[0] as object), [name]: (g.fault.query as Record<string, unknown>)[name] }, g.query[1]] };
        else g = { ...g, body: g.fault.body! };
      }
    }
    let sourceParam: string | undefined;
    bodyKey = cred === 'unknown' ? g.credHeader.unknown : (creds[cred] ?? 'sk_write_nope');
    const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const p = (g.path as Record<string, { v?: unknown; raw?: string }>)[name];
      if (p.raw !== undefined) return p.raw;
      const text = asText(resolve(p.v));
      if (name === 'sourceId') sourceParam = text;
      return wtf8(text);
    });
    const [known, extra] = g.query;
    const pairs: string[] = [];
    const add = (k: string, v: unknown) => {
      if (v instanceof RawQuery) pairs.push(`${wtf8(k)}=${v.text}`);
      else pairs.push(`${wtf8(k)}=${wtf8(asText(resolve(v)))}`);
    };
    for (const [k, v] of Object.entries(known as Record<string, unknown>)) {
      if (v === undefined) continue;
      if (v instanceof Named) {
        if (Array.isArray(v.value)) v.value.forEach((x) => add(v.name, x));
        else add(v.name, v.value);
        continue;
      }
      if (Array.isArray(v) && !(k === 'sourceIds')) v.forEach((x) => add(k, x));
      else add(k, v);
    }
    for (const [k, v] of extra) add(k, v);
    const url = pairs.length ? `${path}?${pairs.join('&')}` : path;

    const headers: Record<string, string | undefined> = { 'X-Request-Id': g.requestId };
    const secret = cred === 'none' ? undefined : cred === 'malformed' ? null : cred === 'unknown' ? g.credHeader.unknown : creds[cred];
    if (secret === null) headers.Authorization = g.credHeader.malformed;
    else if (secret !== undefined) {
      const ingest = op.security.includes('writeKey');
      const form = ingest ? (g.credHeader.form === 'bearer' ? 'basic' : g.credHeader.form === 'basic' ? 'bearer' : g.credHeader.form) : g.credHeader.form === 'x-write-key' ? 'bearer' : g.credHeader.form;
      if (form === 'bearer') headers.Authorization = `Bearer ${secret}`;
      else if (form === 'basic') headers.Authorization = `Basic ${Buffer.from(`${secret}:`).toString('base64')}`;
      else headers['X-Write-Key'] = secret;
    }
    let body: Buffer | undefined;
    if (g.body.kind === 'text') body = Buffer.from(g.body.text, 'latin1');
    else if (g.body.kind !== 'none') body = Buffer.from(toJson(resolve(g.body.v)));
    if (body) {
      headers['Content-Type'] = g.contentType;
      if (g.gzip) {
        body = gzipSync(body);
        headers['Content-Encoding'] = 'gzip';
      }
    }
    return { request: { method: op.method, path: url, headers, body }, sourceParam };
  }

  /** After a 2xx that used a fixture up, a fresh one takes its place (later cases still reach real rows). */
  async function replenish(op: Operation, request: RawRequest, res: RawResponse): Promise<void> {
    if (res.status >= 300) return;
    const id = /\/v1\/admin\/(sources|keys)\/([0-9a-fA-F-]{36})/.exec(request.path)?.[2];
    if (op.method === 'DELETE' && id) {
      const i = pools.source.indexOf(id);
      if (i < 0) return;
      pools.source[i] = await newVictimSource();
      // its write keys went with it (the victim write keys belong to pools.source[0])
      if (i === 0) for (let k = 0; k < 6; k++) if (VICTIM_KINDS[k % 3] === 'write') pools.key[k] = await newVictimKey('write');
    } else if (op.path.endsWith('/revoke') && id) {
      const i = pools.key.indexOf(id);
      if (i >= 0) pools.key[i] = await newVictimKey(VICTIM_KINDS[i % 3]);
    } else if (op.path.endsWith('/rotate') && pools.key.length < 40) {
      pools.key.push((res.json as { id: string }).id);
    }
  }

  function check(op: Operation, cred: Credential, request: RawRequest, sourceParam: string | undefined, res: RawResponse): void {
    const fail = (why: string) => {
      throw new Error(`${op.method} ${op.path} with credential "${cred}": ${why}\n  request: ${describeRequest(request)}\n  answer: ${res.status} ${res.text.slice(0, 600)}`);
    };
    const key = `${op.method} ${op.path}`;
    const counts = stats.byOperation.get(key) ?? new Map<number, number>();
    counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
    stats.byOperation.set(key, counts);
    if (res.status >= 500) fail(`a ${res.status}`);
    if (res.status >= 400) {
      const p = errorShapeProblem(res);
      if (p) fail(p);
    }
    const ok = res.status >= 200 && res.status < 300;
    if (ok && !allowed(op)(cred, sourceParam, main.id)) fail(`a ${res.status} for a credential the route does not take`);
    const type = String(res.headers['content-type']);
    if (ok && type.startsWith('application/x-ndjson')) {
      // A streamed export: every line JSON, the last one its end (or the error that stopped it).
      const lines = res.text.trimEnd().split('\n');
      for (const line of lines) {
        try {
          JSON.parse(line);
        } catch {
          fail(`an NDJSON line that is not JSON: ${line.slice(0, 200)}`);
        }
      }
      if (!('end' in (JSON.parse(lines[lines.length - 1]) as object))) fail('an NDJSON export that does not end with its end line');
    } else if (ok && type.startsWith('text/event-stream')) {
      // The live debugger: an accepted stream opens with its hello frame (JSON data).
      const hello = /^event: hello\ndata: (.*)\n\n/.exec(res.text);
      if (!hello) fail(`an event stream that does not open with its hello frame: ${res.text.slice(0, 200)}`);
      else JSON.parse(hello[1]);
    } else if (ok && res.status !== 204 && op.path !== '/metrics' && !type.startsWith('application/json')) fail('a success that is not JSON');
    if (['none', 'malformed', 'unknown'].includes(cred) && !/^\/(health|metrics)/.test(op.path)) {
      // Before authentication, only the request itself may be refused: its URL, its body, its size.
      const reason = (res.json as { reason?: string } | undefined)?.reason;
      if (![400, 401, 404, 413, 414, 415, 431].includes(res.status) || (res.status === 400 && !['invalid_url', 'invalid_body', 'bad_encoding'].includes(reason ?? ''))) {
        fail(`an unauthenticated request got ${res.status}${reason ? ` (${reason})` : ''}, not 401 or a refusal of the request itself`);
      }
    }
  }

  it('answers every operation of /docs-json, with every credential kind, without a 5xx and with JSON errors', async () => {
    const ops = operations();
    expect(ops.length).toBeGreaterThanOrEqual(28);
    const perPair = Math.max(1, Math.ceil(runs / (ops.length * CREDENTIALS.length)));
    let pair = 0;
    for (const op of ops) {
      for (const cred of CREDENTIALS) {
        await fc.assert(
          fc.asyncProperty(caseArb(op), async (g) => {
            const { request, sourceParam } = build(op, cred, g);
            stats.requests++;
            let res: RawResponse;
            try {
              res = await client.send(request);
            } catch (err) {
              throw new Error(`${op.method} ${op.path} with credential "${cred}": no answer (${(err as Error).message})\n  request: ${describeRequest(request)}\n  previous request: ${client.previous ? describeRequest(client.previous) : '-'}`);
            }
            check(op, cred, request, sourceParam, res);
            await replenish(op, request, res);
          }),
          { seed: seed + pair++, numRuns: perPair },
        );
      }
      const live = await client.send({ method: 'GET', path: '/health/live' });
      if (live.status !== 200) throw new Error(`after ${op.method} ${op.path}: /health/live answered ${live.status} ${live.text}`);
    }
    const table = [...stats.byOperation].map(([k, m]) => `${k} ${JSON.stringify(Object.fromEntries([...m].sort((a, b) => a[0] - b[0])))}`);
    console.log(
      `openapi fuzz: FUZZ_SEED=${seed} FUZZ_RUNS=${runs}: ${ops.length} operations x ${CREDENTIALS.length} credential kinds x ${perPair} cases = ${stats.requests} requests, ` +
        `${((Date.now() - stats.started) / 1000).toFixed(1)} s\n${table.join('\n')}`,
    );
    expect((await client.send({ method: 'GET', path: '/health/live' })).status).toBe(200);
    expect((await client.send({ method: 'GET', path: '/health/ready' })).status).toBe(200);
  });
});
