import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { Analytics } from '@segment/analytics-node';
import { createSource, startApp, TestApp, waitFor, withDb } from '../support/app';

/** Real SDKs, unchanged, pointed at one listening Sluice. */
let t: TestApp;
let baseUrl: string;

beforeAll(async () => {
  t = await startApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = await t.app.getUrl();
});
afterAll(() => t.close());

describe('@segment/analytics-node against Sluice', () => {
  it('stores every call type exactly once with every field intact', async () => {
    const source = await createSource(t);
    const analytics = new Analytics({ writeKey: source.writeKey, host: baseUrl, flushAt: 3, maxRetries: 3 });
    const errors: unknown[] = [];
    analytics.on('error', (e) => errors.push(e));

    const ts = new Date('2026-11-25T08:00:00.000Z');
    analytics.track({ userId: 'user-1', event: 'Order Completed', properties: { revenue: 42.5, items: [{ sku: 'a-1', qty: 2 }] }, timestamp: ts, context: { campaign: { name: 'fall', source: 'news', medium: 'email' } } });
    analytics.identify({ userId: 'user-1', traits: { email: 'ada@example.com', plan: 'pro' } });
    analytics.page({ anonymousId: 'anon-9', name: 'Pricing', category: 'Docs', properties: { path: '/pricing' } });
    analytics.screen({ userId: 'user-1', name: 'Home', properties: { tab: 'feed' } });
    analytics.group({ userId: 'user-1', groupId: 'acme', traits: { employees: 42 } });
    analytics.alias({ userId: 'user-1', previousId: 'anon-9' });
    await analytics.closeAndFlush({ timeout: 20_000 });
    expect(errors).toEqual([]);

    const rows = await waitFor(
      () => withDb(async (db) => (await db.query('SELECT * FROM events WHERE source_id = $1 ORDER BY type', [source.id])).rows),
      (r) => r.length >= 6,
    );
    expect(rows.map((r) => r.type).sort()).toEqual(['alias', 'group', 'identify', 'page', 'screen', 'track']);
    expect(new Set(rows.map((r) => r.message_id)).size).toBe(6);
    const byType = Object.fromEntries(rows.map((r) => [r.type, r]));

    expect(byType.track).toMatchObject({ event: 'Order Completed', user_id: 'user-1', properties: { revenue: 42.5, items: [{ sku: 'a-1', qty: 2 }] } });
    expect(byType.track.context).toMatchObject({ campaign: { name: 'fall' }, library: { name: '@segment/analytics-node' } });
    expect(byType.track.original_timestamp.toISOString()).toBe(ts.toISOString());
    expect(byType.track.sent_at).not.toBeNull();
    expect(byType.identify.traits).toEqual({ email: 'ada@example.com', plan: 'pro' });
    expect(byType.page).toMatchObject({ anonymous_id: 'anon-9', name: 'Pricing', properties: { path: '/pricing', category: 'Docs' } });
    expect(byType.screen).toMatchObject({ name: 'Home', properties: { tab: 'feed' } });
    expect(byType.group).toMatchObject({ group_id: 'acme', traits: { employees: 42 } });
    expect(byType.alias).toMatchObject({ previous_id: 'anon-9', user_id: 'user-1' });
    for (const r of rows) {
      expect(r.message_id).not.toMatch(/^api-/); // the SDK's own messageId is kept
      expect(r.received_at).not.toBeNull();
      // SDK-specific top-level fields (e.g. _metadata) survive in `extra`.
      expect(r.extra).toHaveProperty('_metadata');
    }
  });
});

/**
 * RudderStack's Node SDK, unchanged: it posts gzip JSON as application/x-www-form-urlencoded
 * to /v1/batch, which Segment-compatible servers read as JSON whatever the content type.
 */
describe('@rudderstack/rudder-sdk-node against Sluice', () => {
  it('stores every call type exactly once with every field intact (gzip, form content type)', async () => {
    const source = await createSource(t);
    const errors: unknown[] = [];
    const client = new RudderAnalytics(source.writeKey, { dataPlaneUrl: baseUrl, flushAt: 100, flushInterval: 60_000, logLevel: 'error', errorHandler: (e) => errors.push(e) });
    const ts = new Date(Date.now() - 3_600_000);
    client.track({ userId: 'user-1', event: 'Order Completed', properties: { revenue: 42.5, items: [{ sku: 'a-1', qty: 2 }] }, timestamp: ts, context: { campaign: { name: 'fall' } } });
    client.identify({ userId: 'user-1', traits: { email: 'ada@example.com', plan: 'pro' } });
    client.page({ anonymousId: 'anon-9', name: 'Pricing', category: 'Docs', properties: { path: '/pricing' } });
    client.screen({ userId: 'user-1', name: 'Home', properties: { tab: 'feed' } });
    client.group({ userId: 'user-1', groupId: 'acme', traits: { employees: 42 } });
    client.alias({ userId: 'user-1', previousId: 'anon-9' });
    await client.flush();
    expect(errors).toEqual([]);

    const rows = await waitFor(
      () => withDb(async (db) => (await db.query('SELECT * FROM events WHERE source_id = $1 ORDER BY type', [source.id])).rows),
      (r) => r.length >= 6,
    );
    expect(rows.map((r) => r.type).sort()).toEqual(['alias', 'group', 'identify', 'page', 'screen', 'track']);
    expect(new Set(rows.map((r) => r.message_id)).size).toBe(6);
    const byType = Object.fromEntries(rows.map((r) => [r.type, r]));
    expect(byType.track).toMatchObject({ event: 'Order Completed', user_id: 'user-1', properties: { revenue: 42.5, items: [{ sku: 'a-1', qty: 2 }] } });
    expect(byType.track.context).toMatchObject({ campaign: { name: 'fall' }, library: { name: 'analytics-node' } });
    // The caller's timestamp is the event's time (corrected for a skew of zero here); the SDK's
    // own stamp of the call is kept as originalTimestamp.
    expect(Math.abs(byType.track.timestamp.getTime() - ts.getTime())).toBeLessThan(1000);
    expect(byType.track.original_timestamp.getTime()).toBeGreaterThan(ts.getTime() + 3_000_000);
    expect(byType.identify.traits).toMatchObject({ email: 'ada@example.com', plan: 'pro' });
    expect(byType.page).toMatchObject({ anonymous_id: 'anon-9', name: 'Pricing', properties: { path: '/pricing' } });
    expect(byType.screen).toMatchObject({ name: 'Home', properties: { tab: 'feed' } });
    expect(byType.group).toMatchObject({ group_id: 'acme', traits: { employees: 42 } });
    expect(byType.alias).toMatchObject({ previous_id: 'anon-9', user_id: 'user-1' });
    for (const r of rows) {
      expect(r.message_id).not.toMatch(/^api-/);
      expect(r.sent_at).not.toBeNull();
    }
  });
});
