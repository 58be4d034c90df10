import { CLI_ACTOR } from '../../src/audit/actor';
import { KeysService } from '../../src/sources/keys.service';
import { createSource, startApp, TestApp } from '../support/app';
import { baseUrl, openSse } from '../support/sse';

/**
 * Every route x every kind of credential -> the expected status. 401: no credential or one that
 * is not (or no longer) valid; 403: valid but not allowed on this route or source.
 */
type Cred = 'none' | 'wrong' | 'revoked' | 'write' | 'readOther' | 'readThis' | 'admin';
const CREDS: Cred[] = ['none', 'wrong', 'revoked', 'write', 'readOther', 'readThis', 'admin'];

interface Route {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** The route as /docs-json names it (`/v1/admin/keys/{id}`). */
  template: string;
  path: string | (() => Promise<string> | string);
  body?: object | (() => Promise<object>);
  ingest?: boolean;
  /** Server-Sent Events: opened with fetch and closed once the status is known (supertest would wait for the end). */
  stream?: boolean;
  /** The credential is part of the path (analytics.js settings), not a header. */
  keyInPath?: (secret: string) => string;
  expect: Partial<Record<Cred, number>> & { ok: number };
}

describe('access matrix', () => {
  let t: TestApp;
  let keys: KeysService;
  let sourceA: { id: string; writeKey: string };
  let sourceB: { id: string; writeKey: string };
  const cred: Partial<Record<Cred, string>> = {};

  beforeAll(async () => {
    t = await startApp({ API_RATE_LIMIT_RPS: '0' });
    keys = t.app.get(KeysService);
    sourceA = await createSource(t);
    sourceB = await createSource(t);
    cred.wrong = 'sk_admin_AAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';
    const revoked = await keys.createKey({ kind: 'read', sourceIds: [sourceA.id] }, CLI_ACTOR);
    await keys.revokeKey(revoked.id, CLI_ACTOR);
    cred.revoked = revoked.key;
    cred.write = sourceA.writeKey;
    cred.readOther = (await keys.createKey({ kind: 'read', sourceIds: [sourceB.id] }, CLI_ACTOR)).key;
    cred.readThis = (await keys.createKey({ kind: 'read', sourceIds: [sourceA.id] }, CLI_ACTOR)).key;
    cred.admin = t.adminKey;
  });
  afterAll(() => t.close());

  const freshSource = async () => (await createSource(t)).id;
  const freshKey = async () => (await keys.createKey({ kind: 'read' }, CLI_ACTOR)).id;

  const ingest = (path: string, body: object): Route => ({
    method: 'post',
    template: path,
    path,
    body,
    ingest: true,
    expect: { ok: 200, write: 200, readOther: 403, readThis: 403, admin: 403 },
  });
  const admin = (method: Route['method'], template: string, path: Route['path'], ok: number, body?: Route['body']): Route => ({
    method,
    template,
    path,
    body,
    expect: { ok, write: 403, readOther: 403, readThis: 403, admin: ok },
  });
  const publicRoute = (path: string): Route => ({
    method: 'get',
    template: path,
    path,
    expect: { ok: 200, none: 200, wrong: 200, revoked: 200, write: 200, readOther: 200, readThis: 200, admin: 200 },
  });
  const track = { userId: 'u', event: 'matrix' };
  const routes: Route[] = [
    ...['/v1/track', '/v1/t'].map((p) => ingest(p, track)),
    ...['/v1/identify', '/v1/i', '/v1/page', '/v1/p', '/v1/screen', '/v1/s'].map((p) => ingest(p, { userId: 'u' })),
    ...['/v1/group', '/v1/g'].map((p) => ingest(p, { userId: 'u', groupId: 'g' })),
    ...['/v1/alias', '/v1/a'].map((p) => ingest(p, { userId: 'u', previousId: 'p' })),
    ...['/v1/batch', '/v1/b', '/v1/import'].map((p) => ingest(p, { batch: [{ type: 'track', ...track }] })),
    { method: 'get', template: '/v1/sources/{sourceId}/events', path: () => `/v1/sources/${sourceA.id}/events`, expect: { ok: 200, write: 403, readOther: 403, readThis: 200, admin: 200 } },
    // The receipt of an unknown messageId is a 404 for whoever may read the source.
    { method: 'get', template: '/v1/sources/{sourceId}/events/{messageId}', path: () => `/v1/sources/${sourceA.id}/events/no-such-id`, expect: { ok: 404, write: 403, readOther: 403, readThis: 404, admin: 404 } },
    { method: 'get', template: '/v1/sources/{sourceId}/live', path: () => `/v1/sources/${sourceA.id}/live`, stream: true, expect: { ok: 200, write: 403, readOther: 403, readThis: 200, admin: 200 } },
    { method: 'get', template: '/v1/sources/{sourceId}/stats/counts', path: () => `/v1/sources/${sourceA.id}/stats/counts?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z`, expect: { ok: 200, write: 403, readOther: 403, readThis: 200, admin: 200 } },
    { method: 'get', template: '/v1/sources/{sourceId}/stats/uniques', path: () => `/v1/sources/${sourceA.id}/stats/uniques?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z`, expect: { ok: 200, write: 403, readOther: 403, readThis: 200, admin: 200 } },
    { method: 'post', template: '/v1/sources/{sourceId}/stats/funnel', path: () => `/v1/sources/${sourceA.id}/stats/funnel`, body: { steps: [{ event: 'a' }, { event: 'b' }], window: '1d', from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z' }, expect: { ok: 200, write: 403, readOther: 403, readThis: 200, admin: 200 } },
    { method: 'post', template: '/v1/sources/{sourceId}/stats/retention', path: () => `/v1/sources/${sourceA.id}/stats/retention`, body: { cohortEvent: 'a', returnEvent: 'b', interval: 'day', periods: 3, from: '2026-11-01T00:00:00Z', to: '2026-11-03T00:00:00Z' }, expect: { ok: 200, write: 403, readOther: 403, readThis: 200, admin: 200 } },
    { method: 'get', template: '/v1/sources/{sourceId}/stats/top-events', path: () => `/v1/sources/${sourceA.id}/stats/top-events?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z`, expect: { ok: 200, write: 403, readOther: 403, readThis: 200, admin: 200 } },
    admin('post', '/v1/admin/sources', '/v1/admin/sources', 201, { name: 'matrix' }),
    admin('get', '/v1/admin/sources', '/v1/admin/sources', 200),
    admin('get', '/v1/admin/sources/{id}', () => `/v1/admin/sources/${sourceA.id}`, 200),
    admin('patch', '/v1/admin/sources/{id}', async () => `/v1/admin/sources/${await freshSource()}`, 200, { name: 'renamed' }),
    admin('delete', '/v1/admin/sources/{id}', async () => `/v1/admin/sources/${await freshSource()}`, 204),
    admin('post', '/v1/admin/keys', '/v1/admin/keys', 201, { kind: 'read' }),
    admin('get', '/v1/admin/keys', '/v1/admin/keys', 200),
    admin('get', '/v1/admin/keys/{id}', async () => `/v1/admin/keys/${await freshKey()}`, 200),
    admin('post', '/v1/admin/keys/{id}/revoke', async () => `/v1/admin/keys/${await freshKey()}/revoke`, 200),
    admin('post', '/v1/admin/keys/{id}/rotate', async () => `/v1/admin/keys/${await freshKey()}/rotate`, 201, { overlapSeconds: 60 }),
    admin('get', '/v1/admin/audit', '/v1/admin/audit', 200),
    admin('get', '/v1/admin/dead-letters', '/v1/admin/dead-letters', 200),
    admin('post', '/v1/admin/dead-letters/discard', '/v1/admin/dead-letters/discard', 200, { ids: ['999999999'] }),
    admin('post', '/v1/admin/privacy/suppressions', '/v1/admin/privacy/suppressions', 201, { userId: 'matrix-user', sourceIds: ['00000000-0000-4000-8000-000000000000'] }),
    admin('get', '/v1/admin/privacy/suppressions', '/v1/admin/privacy/suppressions', 200),
    admin('get', '/v1/admin/privacy/exports', '/v1/admin/privacy/exports?userId=matrix-nobody', 200),
    admin('post', '/v1/admin/privacy/deletions', '/v1/admin/privacy/deletions', 202, { userId: 'matrix-nobody', sourceIds: ['00000000-0000-4000-8000-000000000000'] }),
    admin('get', '/v1/admin/privacy/deletions', '/v1/admin/privacy/deletions', 200),
    admin('get', '/v1/admin/privacy/deletions/{id}', '/v1/admin/privacy/deletions/00000000-0000-4000-8000-000000000000', 404),
    admin('delete', '/v1/admin/privacy/suppressions/{id}', '/v1/admin/privacy/suppressions/00000000-0000-4000-8000-000000000000', 404),
    // Unknown dead letter / replay ids: 404 for an admin key, refused before that for the rest.
    admin('get', '/v1/admin/dead-letters/{id}', '/v1/admin/dead-letters/999999999', 404),
    admin('put', '/v1/admin/dead-letters/{id}/event', '/v1/admin/dead-letters/999999999/event', 404, { event: { type: 'track', event: 'e', userId: 'u' } }),
    admin('post', '/v1/admin/dead-letters/{id}/replay', '/v1/admin/dead-letters/999999999/replay', 404),
    admin('post', '/v1/admin/dead-letters/replay', '/v1/admin/dead-letters/replay', 404, { ids: ['999999999'] }),
    admin('post', '/v1/admin/dead-letters/{id}/discard', '/v1/admin/dead-letters/999999999/discard', 404),
    admin('post', '/v1/admin/dead-letter-replays', '/v1/admin/dead-letter-replays', 202, { sourceId: '00000000-0000-4000-8000-000000000000' }),
    admin('get', '/v1/admin/dead-letter-replays/{id}', '/v1/admin/dead-letter-replays/999999999', 404),
    // Tracking plans: unknown ids answer 404 to an admin key (bodies valid, so nothing else can answer first).
    admin('post', '/v1/admin/tracking-plans', '/v1/admin/tracking-plans', 201, { name: 'matrix', rules: { rules: [] } }),
    admin('get', '/v1/admin/tracking-plans', '/v1/admin/tracking-plans', 200),
    admin('get', '/v1/admin/tracking-plans/{id}', '/v1/admin/tracking-plans/00000000-0000-4000-8000-000000000000', 404),
    admin('patch', '/v1/admin/tracking-plans/{id}', '/v1/admin/tracking-plans/00000000-0000-4000-8000-000000000000', 404, { name: 'x' }),
    admin('delete', '/v1/admin/tracking-plans/{id}', '/v1/admin/tracking-plans/00000000-0000-4000-8000-000000000000', 404),
    admin('post', '/v1/admin/tracking-plans/{id}/versions', '/v1/admin/tracking-plans/00000000-0000-4000-8000-000000000000/versions', 404, { rules: { rules: [] } }),
    admin('get', '/v1/admin/tracking-plans/{id}/versions/{version}', '/v1/admin/tracking-plans/00000000-0000-4000-8000-000000000000/versions/1', 404),
    admin('post', '/v1/admin/tracking-plans/import', '/v1/admin/tracking-plans/import', 201, { format: 'segment', plan: { data: { rules: [] } } }),
    admin('post', '/v1/admin/tracking-plans/infer', '/v1/admin/tracking-plans/infer', 404, { sourceId: '00000000-0000-4000-8000-000000000000', from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z' }),
    admin('put', '/v1/admin/sources/{sourceId}/tracking-plan', '/v1/admin/sources/00000000-0000-4000-8000-000000000000/tracking-plan', 404, { planId: '00000000-0000-4000-8000-000000000000' }),
    admin('get', '/v1/admin/sources/{sourceId}/tracking-plan', '/v1/admin/sources/00000000-0000-4000-8000-000000000000/tracking-plan', 404),
    admin('delete', '/v1/admin/sources/{sourceId}/tracking-plan', '/v1/admin/sources/00000000-0000-4000-8000-000000000000/tracking-plan', 404),
    { method: 'post', template: '/v1/sources/{sourceId}/tracking-plan/validate', path: () => `/v1/sources/${sourceA.id}/tracking-plan/validate`, body: { events: [] }, expect: { ok: 400, write: 403, readOther: 403, readThis: 400, admin: 400 } },
    { method: 'get', template: '/v1/sources/{sourceId}/violations', path: () => `/v1/sources/${sourceA.id}/violations?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z`, expect: { ok: 200, write: 403, readOther: 403, readThis: 200, admin: 200 } },
    // The console asks what a key is: every valid key may ask about itself.
    { method: 'get', template: '/v1/me', path: '/v1/me', expect: { ok: 200, write: 200, readOther: 200, readThis: 200, admin: 200 } },
    // The browser SDKs' settings: only a write key gets an answer, whatever else is presented.
    {
      method: 'get',
      template: '/v1/projects/{writeKey}/settings',
      path: '/v1/projects/{writeKey}/settings',
      keyInPath: (secret) => `/v1/projects/${encodeURIComponent(secret)}/settings`,
      expect: { ok: 200, none: 404, wrong: 404, revoked: 404, write: 200, readOther: 403, readThis: 403, admin: 403 },
    },
    { method: 'get', template: '/sourceConfig', path: '/sourceConfig/?p=npm&v=3.34.1', ingest: true, expect: { ok: 200, write: 200, readOther: 403, readThis: 403, admin: 403 } },
    publicRoute('/health/live'),
    publicRoute('/health/ready'),
    publicRoute('/metrics'),
    publicRoute('/docs-json'),
  ];
  const cases = routes.flatMap((r) => CREDS.map((c) => [c, r] as const));

  it('covers every route and credential', () => {
    expect(cases.length).toBe(routes.length * CREDS.length);
  });

  it('lists exactly the routes of /docs-json, so a new route cannot escape the matrix', async () => {
    const doc = (await t.http.get('/docs-json')).body as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    // /docs-json itself is served by Swagger and not described in it; the matrix covers it anyway.
    const inMatrix = routes.map((r) => `${r.method.toUpperCase()} ${r.template}`).filter((r) => r !== 'GET /docs-json');
    expect([...new Set(inMatrix)].sort()).toEqual([...new Set(documented)].sort());
  });

  it.each(cases.map(([c, r]) => [`${r.method.toUpperCase()} ${typeof r.path === 'string' ? r.path : '(fresh target)'} as ${c}`, c, r] as const))(
    '%s',
    async (_name, c, r) => {
      const expected = r.expect[c] ?? (c === 'none' || c === 'wrong' || c === 'revoked' ? 401 : r.expect.ok);
      const secret = cred[c];
      const path = r.keyInPath ? r.keyInPath(secret ?? 'none') : typeof r.path === 'function' ? await r.path() : r.path;
      if (r.stream) {
        const s = await openSse(`${await baseUrl(t.app)}${path}`, secret ? { Authorization: `Bearer ${secret}` } : {});
        s.close();
        expect({ status: s.status, body: s.status === expected ? undefined : s.body }).toEqual({ status: expected, body: undefined });
        if (s.status >= 400) {
          expect(s.body.message).toEqual(expect.any(String));
          if (secret) expect(JSON.stringify(s.body)).not.toContain(secret.slice(18));
        }
        return;
      }
      let req = t.http[r.method](path);
      if (secret && !r.keyInPath) req = req.set('Authorization', r.ingest ? `Basic ${Buffer.from(`${secret}:`).toString('base64')}` : `Bearer ${secret}`);
      const res = r.body ? await req.send(typeof r.body === 'function' ? await r.body() : r.body) : await req;
      expect({ status: res.status, body: res.status === expected ? undefined : res.body }).toEqual({ status: expected, body: undefined });
      if (res.status >= 400) {
        expect(res.body.message).toEqual(expect.any(String));
        if (secret) expect(JSON.stringify(res.body)).not.toContain(secret.slice(18));
      }
    },
  );
});
