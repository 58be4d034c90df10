import { ADMIN_TOKEN, waitFor, withDb } from '../support/app';
import { waitForDrain } from '../support/drain';
import { uniqueName } from '../support/env';
import { RoleProcess, startRole, stopRole } from '../support/processes';
import { deleteRedisPrefix } from '../support/redis';

const ORDER = {
  type: 'object',
  required: ['revenue', 'currency'],
  properties: { revenue: { type: 'number' }, currency: { type: 'string', enum: ['EUR', 'USD'] } },
};
const RULES = {
  allowUnplanned: false,
  rules: [
    { type: 'track', event: 'Order Completed', properties: ORDER },
    { type: 'identify', traits: { type: 'object', required: ['email'], properties: { email: { type: 'string', format: 'email' } } } },
  ],
};

// Tracking plans on real processes: two api replicas and a worker. Every mode end to end,
// propagation to both replicas, quarantine -> fix -> replay -> stored once, the dry run, the
// violations report, inference from stored events, and a version change under load with no event
// judged by a half-applied plan.
describe('tracking plans', () => {
  const prefix = uniqueName('tp');
  let apis: RoleProcess[];
  let worker: RoleProcess;
  let admin: string;
  let source: { id: string; writeKey: string };
  let planId: string;

  const call = async (api: RoleProcess, method: string, path: string, auth: string, body?: unknown) => {
    const headers: Record<string, string> = body === undefined ? { Authorization: auth } : { Authorization: auth, 'Content-Type': 'application/json' };
    const res = await fetch(`${api.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as any };
  };
  const basic = () => `Basic ${Buffer.from(`${source.writeKey}:`).toString('base64')}`;
  const adm = () => `Bearer ${admin}`;
  const rows = (messageIds: string[]) =>
    withDb(async (db) => (await db.query(`SELECT message_id, violations FROM events WHERE source_id = $1 AND message_id = ANY($2) ORDER BY message_id`, [source.id, messageIds])).rows);
  const letters = (messageIds: string[]) =>
    withDb(async (db) => (await db.query(`SELECT id, message_id, reason_code, reason, status FROM dead_letters WHERE source_id = $1 AND message_id = ANY($2) ORDER BY message_id`, [source.id, messageIds])).rows);

  beforeAll(async () => {
    apis = await Promise.all([1, 2].map(() => startRole('api', prefix, { API_RATE_LIMIT_RPS: '0' })));
    worker = await startRole('worker', prefix);
    admin = (await call(apis[0], 'POST', '/v1/admin/keys', `Bearer ${ADMIN_TOKEN}`, { kind: 'admin' })).body.key;
    source = (await call(apis[0], 'POST', '/v1/admin/sources', adm(), { name: uniqueName('tp') })).body;
  });
  afterAll(async () => {
    await Promise.all([...apis, worker].map((p) => stopRole(p)));
    await deleteRedisPrefix(prefix);
  });

  it('refuses a plan it could not run, with a message that says which rule', async () => {
    const bad = await call(apis[0], 'POST', '/v1/admin/tracking-plans', adm(), { name: 'bad', rules: { rules: [{ type: 'track', event: 'X', properties: { type: 'nonsense' } }] } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ reason: 'invalid_tracking_plan' });
    expect(bad.body.message).toContain('rules[0].properties');
    const noName = await call(apis[0], 'POST', '/v1/admin/tracking-plans', adm(), { name: 'bad', rules: { rules: [{ type: 'track' }] } });
    expect(noName.body.message).toContain('needs "event"');
    expect((await call(apis[0], 'POST', '/v1/admin/tracking-plans', `Bearer ${ADMIN_TOKEN}`, { name: 'x', rules: RULES })).status).toBe(403);
  });

  it('flags, allows, quarantines and drops as the modes say, on both replicas, never answering 4xx for a violation', async () => {
    const created = await call(apis[0], 'POST', '/v1/admin/tracking-plans', adm(), { name: 'checkout', rules: RULES });
    expect(created.status).toBe(201);
    planId = created.body.id;
    expect(created.body).toMatchObject({ latestVersion: 1, sources: [] });
    const attached = await call(apis[0], 'PUT', `/v1/admin/sources/${source.id}/tracking-plan`, adm(), { planId, onUnplanned: 'drop', onViolation: 'flag' });
    expect(attached.body).toMatchObject({ planId, version: null, onUnplanned: 'drop', onViolation: 'flag' });

    // The second replica learns it over pub/sub: an unplanned event sent there is dropped.
    const probe = await waitFor(
      () => call(apis[1], 'POST', '/v1/track', basic(), { userId: 'u', event: 'Unplanned Thing', messageId: `${prefix}-probe-${Date.now()}` }),
      (r) => r.body?.dropped === 1,
      5000,
      200,
    );
    expect(probe.status).toBe(200);
    expect(probe.body).toMatchObject({ success: true, accepted: 0, dropped: 1 });

    const batch = [
      { type: 'track', event: 'Order Completed', userId: 'u1', messageId: `${prefix}-ok`, properties: { revenue: 42, currency: 'EUR' } },
      { type: 'track', event: 'Order Completed', userId: 'u1', messageId: `${prefix}-bad`, properties: { revenue: '42' } },
      { type: 'track', event: 'Order Complete', userId: 'u1', messageId: `${prefix}-typo` },
      { type: 'identify', userId: 'u1', messageId: `${prefix}-id`, traits: { email: 'not an email' } },
    ];
    for (const api of apis) {
      const r = await call(api, 'POST', '/v1/batch', basic(), { batch: batch.map((e) => ({ ...e, messageId: `${e.messageId}-${api.port}` })) });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ accepted: 3, dropped: 1, rejected: [] });
    }
    await waitForDrain(prefix);
    const stored = await rows(apis.flatMap((a) => batch.map((e) => `${e.messageId}-${a.port}`)));
    expect(stored).toHaveLength(6);
    for (const api of apis) {
      const byId = Object.fromEntries(stored.map((r: any) => [r.message_id, r.violations]));
      expect(byId[`${prefix}-ok-${api.port}`]).toBeNull();
      expect(byId[`${prefix}-bad-${api.port}`]).toEqual({
        plan: `${planId}@1`,
        items: expect.arrayContaining([
          expect.objectContaining({ type: 'schema_violation', keyword: 'type', instancePath: '/properties/revenue' }),
          expect.objectContaining({ type: 'schema_violation', keyword: 'required', instancePath: '/properties' }),
        ]),
      });
      expect(byId[`${prefix}-id-${api.port}`].items).toEqual([expect.objectContaining({ keyword: 'format', instancePath: '/traits/email' })]);
      expect(byId[`${prefix}-typo-${api.port}`]).toBeUndefined(); // dropped
    }

    // allow: stored as is, only counted (sent to the replica that made the change: it applies it before answering).
    await call(apis[0], 'PUT', `/v1/admin/sources/${source.id}/tracking-plan`, adm(), { planId, onUnplanned: 'allow', onViolation: 'allow' });
    const allowed = await call(apis[0], 'POST', '/v1/track', basic(), { userId: 'u', event: 'Order Completed', messageId: `${prefix}-allow-1`, properties: {} });
    expect(allowed.body).toMatchObject({ accepted: 1, dropped: 0 });
    await waitForDrain(prefix);
    const allowedRows = await withDb(async (db) => (await db.query(`SELECT violations FROM events WHERE source_id = $1 AND message_id LIKE $2`, [source.id, `${prefix}-allow-%`])).rows);
    expect(allowedRows.every((r: any) => r.violations === null)).toBe(true);
  });

  it('quarantines into dead_letters, and a fixed event replayed is stored once', async () => {
    await call(apis[0], 'PUT', `/v1/admin/sources/${source.id}/tracking-plan`, adm(), { planId, onUnplanned: 'quarantine', onViolation: 'quarantine' });
    // The replica that made the change applies it before answering; the other within moments.
    const id = `${prefix}-q`;
    const sent = await call(apis[0], 'POST', '/v1/track', basic(), { userId: 'u9', event: 'Order Completed', messageId: id, properties: { revenue: 'lots' } });
    expect(sent.body).toMatchObject({ accepted: 1, dropped: 0 });
    await waitForDrain(prefix);
    const [letter] = await letters([id]);
    expect(letter).toMatchObject({ reason_code: 'schema_violation', status: 'pending' });
    expect(letter.reason).toContain(`quarantined by tracking plan ${planId}@1`);
    expect(letter.reason).toContain('/properties/revenue must be number');
    expect(await rows([letter.message_id])).toEqual([]);

    const listed = await call(apis[0], 'GET', `/v1/admin/dead-letters?reason=schema_violation&sourceId=${source.id}`, adm());
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.body)).toContain(letter.message_id);
    // Replayed unfixed, it is quarantined again; fixed, it is stored, once.
    const fixed = await call(apis[0], 'PUT', `/v1/admin/dead-letters/${letter.id}/event`, adm(), {
      event: { type: 'track', event: 'Order Completed', userId: 'u9', properties: { revenue: 12.5, currency: 'USD' } },
    });
    expect(fixed.status).toBe(200);
    expect((await call(apis[0], 'POST', `/v1/admin/dead-letters/${letter.id}/replay`, adm())).body).toEqual({ replayed: [letter.id], rejected: [], skipped: [] });
    await waitForDrain(prefix);
    expect(await rows([letter.message_id])).toEqual([{ message_id: letter.message_id, violations: null }]);
    expect((await letters([letter.message_id]))[0].status).toBe('replayed');
    await call(apis[0], 'POST', `/v1/admin/dead-letters/${letter.id}/replay`, adm());
    await waitForDrain(prefix);
    expect(await rows([letter.message_id])).toHaveLength(1);
  });

  it('imports Segment and RudderStack exports into plans that validate as they did there', async () => {
    const segment = {
      data: {
        trackingPlan: { name: 'From Segment' },
        rules: [{ type: 'TRACK', key: 'Order Completed', version: 1, jsonSchema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { context: {}, traits: {}, properties: ORDER } } }],
      },
    };
    const rudder = {
      name: 'From RudderStack',
      events: [{ name: '', eventType: 'identify', identitySection: 'traits', rules: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { traits: { type: 'object', required: ['email'] } } } }],
    };
    const event = { type: 'track', event: 'Order Completed', userId: 'x', properties: { revenue: 'x', currency: 'EUR' } };
    const identify = { type: 'identify', userId: 'x', traits: {} };
    for (const [format, plan, name, violating] of [['segment', segment, 'From Segment', event], ['rudderstack', rudder, 'From RudderStack', identify]] as const) {
      const imported = await call(apis[0], 'POST', '/v1/admin/tracking-plans/import', adm(), { format, plan });
      expect(imported.status).toBe(201);
      expect(imported.body).toMatchObject({ name, latestVersion: 1 });
      const dry = await call(apis[0], 'POST', `/v1/sources/${source.id}/tracking-plan/validate`, adm(), { events: [violating], planId: imported.body.id });
      expect(dry.body).toMatchObject({ plan: `${imported.body.id}@1`, invalid: 1 });
      expect(dry.body.events[0].violations.length).toBeGreaterThan(0);
    }
    const wrong = await call(apis[0], 'POST', '/v1/admin/tracking-plans/import', adm(), { format: 'segment', plan: { hello: 'world' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.message).toContain('not a Segment tracking plan');
  });

  it('dry-runs events against the plan (or another version) without storing them', async () => {
    const reader = (await call(apis[0], 'POST', '/v1/admin/keys', adm(), { kind: 'read', sourceIds: [source.id] })).body.key;
    const events = [
      { type: 'track', event: 'Order Completed', properties: { revenue: 1, currency: 'EUR' }, userId: 'x', messageId: `${prefix}-dry1` },
      { type: 'track', event: 'Nope', userId: 'x', messageId: `${prefix}-dry2` },
      { type: 'track', userId: 'x' },
    ];
    const r = await call(apis[1], 'POST', `/v1/sources/${source.id}/tracking-plan/validate`, `Bearer ${reader}`, { events });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ plan: `${planId}@1`, valid: 1, invalid: 2 });
    expect(r.body.events.map((e: any) => e.outcome)).toEqual(['valid', 'quarantine', 'rejected']);
    expect(r.body.events[1].violations).toEqual([expect.objectContaining({ type: 'unplanned_event', instancePath: '/event' })]);
    expect(r.body.events[2]).toMatchObject({ reason: 'missing_event' });
    expect(await rows([`${prefix}-dry1`, `${prefix}-dry2`])).toEqual([]);
    const other = await call(apis[1], 'POST', `/v1/sources/${uniqueUuid()}/tracking-plan/validate`, `Bearer ${reader}`, { events });
    expect(other.status).toBe(403);
  });

  it('reports violations by event and kind, with a sample', async () => {
    const now = Date.now();
    const q = `from=${new Date(now - 3_600_000).toISOString()}&to=${new Date(now + 3_600_000).toISOString()}`;
    const report = await waitFor(
      () => call(apis[0], 'GET', `/v1/sources/${source.id}/violations?${q}`, adm()),
      (r) => (r.body?.groups ?? []).some((g: any) => g.type === 'unplanned_event' && g.event === 'Order Complete' && g.action === 'drop' && g.count === 2),
      15_000,
      500,
    );
    const groups = report.body.groups;
    expect(groups).toEqual(expect.arrayContaining([
      expect.objectContaining({ eventType: 'track', event: 'Order Completed', type: 'schema_violation', keyword: 'type', instancePath: '/properties/revenue', action: 'flag', count: 2 }),
      expect.objectContaining({ eventType: 'identify', event: '', keyword: 'format', instancePath: '/traits/email', action: 'flag', count: 2 }),
    ]));
    const unplanned = groups.find((g: any) => g.type === 'unplanned_event' && g.event === 'Order Complete' && g.action === 'drop');
    expect(unplanned).toMatchObject({ count: 2, instancePath: '/event', message: 'event "Order Complete" is not in the tracking plan' });
    expect(unplanned.sample).toMatchObject({ type: 'track', event: 'Order Complete', userId: 'u1' });
    const only = await call(apis[0], 'GET', `/v1/sources/${source.id}/violations?${q}&type=unplanned_event`, adm());
    expect(only.body.groups.every((g: any) => g.type === 'unplanned_event')).toBe(true);
    expect((await call(apis[0], 'GET', `/v1/sources/${source.id}/violations?from=x&to=y`, adm())).status).toBe(400);
  });

  it('infers a draft from stored events that validates them, and versions a plan under load without a half-applied plan', async () => {
    const fresh = (await call(apis[0], 'POST', '/v1/admin/sources', adm(), { name: uniqueName('infer') })).body;
    const write = `Basic ${Buffer.from(`${fresh.writeKey}:`).toString('base64')}`;
    const seeded = Array.from({ length: 60 }, (_, i) => ({
      type: 'track', event: i % 2 ? 'Viewed' : 'Bought', userId: `u${i % 5}`, messageId: `${prefix}-inf-${i}`,
      properties: i % 2 ? { sku: `s${i}`, price: i, ...(i % 3 ? { tag: null } : {}) } : { total: i * 2, items: [i], gift: i % 4 === 0 },
    }));
    seeded.push({ type: 'identify', userId: 'u1', messageId: `${prefix}-inf-id`, traits: { plan: 'pro' } } as any);
    expect((await call(apis[0], 'POST', '/v1/batch', write, { batch: seeded })).body.accepted).toBe(61);
    await waitForDrain(prefix);
    const now = Date.now();
    const inferred = await call(apis[0], 'POST', '/v1/admin/tracking-plans/infer', adm(), { sourceId: fresh.id, from: new Date(now - 86_400_000).toISOString(), to: new Date(now + 60_000).toISOString() });
    expect(inferred.status).toBe(200);
    expect(inferred.body.events).toBe(61);
    const viewed = inferred.body.rules.rules.find((r: any) => r.event === 'Viewed');
    expect(viewed.properties.required).toEqual(['price', 'sku']);
    expect(viewed.properties.properties.tag).toEqual({ type: 'null' });
    const draft = (await call(apis[0], 'POST', '/v1/admin/tracking-plans', adm(), { name: 'inferred', rules: inferred.body.rules })).body;
    await call(apis[0], 'PUT', `/v1/admin/sources/${fresh.id}/tracking-plan`, adm(), { planId: draft.id, onUnplanned: 'flag', onViolation: 'flag' });
    const dry = await call(apis[0], 'POST', `/v1/sources/${fresh.id}/tracking-plan/validate`, adm(), { events: seeded });
    expect(dry.body).toMatchObject({ valid: 61, invalid: 0 });

    // Version 2 requires a property version 1 does not know: under load, each stored event's
    // violations are exactly those of v1 or of v2, never a mix.
    const v2Rules = { ...inferred.body.rules, rules: inferred.body.rules.rules.map((r: any) => (r.event === 'Viewed' ? { ...r, properties: { ...r.properties, required: [...r.properties.required, 'campaign'] } } : r)) };
    let sent = 0;
    const load = (async () => {
      for (let round = 0; round < 25; round++) {
        const batch = Array.from({ length: 40 }, (_, i) => ({ type: 'track', event: 'Viewed', userId: 'load', messageId: `${prefix}-load-${round}-${i}`, properties: { sku: 'x', price: 1 } }));
        await Promise.all(apis.map((api, k) => call(api, 'POST', '/v1/batch', write, { batch: batch.map((e) => ({ ...e, messageId: `${e.messageId}-${k}` })) })));
        sent += 80;
      }
    })();
    await new Promise((r) => setTimeout(r, 150));
    const v2 = await call(apis[0], 'POST', `/v1/admin/tracking-plans/${draft.id}/versions`, adm(), { rules: v2Rules });
    expect(v2.body.version).toBe(2);
    await load;
    await waitForDrain(prefix);
    const loadRows = await withDb(async (db) => (await db.query(`SELECT violations FROM events WHERE source_id = $1 AND message_id LIKE $2`, [fresh.id, `${prefix}-load-%`])).rows);
    expect(loadRows).toHaveLength(sent);
    const kinds = new Set(loadRows.map((r: any) => (r.violations === null ? 'v1-clean' : `${r.violations.plan}:${r.violations.items.map((i: any) => i.message).join('|')}`)));
    for (const k of kinds) expect(['v1-clean', `${draft.id}@2:/properties must have required property 'campaign' (campaign)`]).toContain(k);
    expect(kinds.has(`${draft.id}@2:/properties must have required property 'campaign' (campaign)`)).toBe(true); // v2 reached both replicas
    const plan = (await call(apis[0], 'GET', `/v1/admin/tracking-plans/${draft.id}`, adm())).body;
    expect(plan.versions.map((v: any) => v.version)).toEqual([2, 1]);
    expect((await call(apis[0], 'DELETE', `/v1/admin/tracking-plans/${draft.id}`, adm())).status).toBe(409);
    expect((await call(apis[0], 'DELETE', `/v1/admin/sources/${fresh.id}/tracking-plan`, adm())).status).toBe(204);
    expect((await call(apis[0], 'DELETE', `/v1/admin/tracking-plans/${draft.id}`, adm())).status).toBe(204);
    const audit = await withDb(async (db) => (await db.query(`SELECT action FROM audit_log WHERE target_id = ANY($1) ORDER BY id`, [[draft.id, fresh.id]])).rows.map((r: any) => r.action));
    expect(audit).toEqual(expect.arrayContaining(['tracking_plan.create', 'tracking_plan.attach', 'tracking_plan.version', 'tracking_plan.detach', 'tracking_plan.delete']));
  });
});

function uniqueUuid(): string {
  return '00000000-0000-4000-8000-000000000001';
}
