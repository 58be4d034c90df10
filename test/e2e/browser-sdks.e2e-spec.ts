import { createServer, Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import { createSource, startApp, TestApp, waitFor, withDb } from '../support/app';
import { launchChromium } from '../support/chromium';
import { baseUrl } from '../support/sse';
import { uniqueName } from '../support/env';

/**
 * The browser SDKs as a website loads them, in Debian's Chromium, from another origin than
 * Sluice's (so CORS and preflights are real): Segment's analytics.js (@segment/analytics-next)
 * pointed at Sluice with `cdnURL` only, and RudderStack's JavaScript SDK (v3) with
 * `configUrl` and the data plane URL only. Each first loads its settings from Sluice
 * (src/sdk-settings), then sends; the test reads what PostgreSQL holds afterwards.
 */
const BUNDLES: Record<string, string> = {
  '/analytics-next.js': require.resolve('@segment/analytics-next/dist/umd/index.js'),
  '/rudder-analytics.js': require.resolve('@rudderstack/analytics-js').replace(/dist\/npm\/.*$/, 'dist/npm/modern/bundled/umd/index.js'),
};

interface StoredRow {
  type: string;
  event: string | null;
  user_id: string | null;
  anonymous_id: string | null;
  properties: Record<string, unknown> | null;
  traits: Record<string, unknown> | null;
  context: { library?: { name?: string }; page?: { url?: string } } | null;
}

describe('browser SDKs in Chromium against Sluice', () => {
  let t: TestApp;
  let api: string;
  let site: Server;
  let siteUrl: string;
  let browser: { context: BrowserContext; close(): Promise<void> };
  let source: { id: string; writeKey: string };

  beforeAll(async () => {
    t = await startApp();
    api = await baseUrl(t.app);
    source = await createSource(t);
    // The website: a page and the SDK bundles, on an origin of its own.
    site = createServer((req, res) => {
      const file = BUNDLES[req.url ?? ''];
      if (file) {
        res.setHeader('Content-Type', 'text/javascript');
        res.end(readFileSync(file));
      } else if (req.url?.startsWith('/shop')) {
        res.setHeader('Content-Type', 'text/html');
        res.end('<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1></body></html>');
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => site?.close(resolve));
    await t?.close();
  });

  /** Opens the shop page and records every request the page makes to Sluice and its answer. */
  async function shopPage(): Promise<{ page: Page; calls: string[]; failures: string[] }> {
    const page = await browser.context.newPage();
    const calls: string[] = [];
    const failures: string[] = [];
    page.on('response', (r) => r.url().startsWith(api) && calls.push(`${r.request().method()} ${new URL(r.url()).pathname} ${r.status()}`));
    page.on('requestfailed', (r) => failures.push(`${r.url()}: ${r.failure()?.errorText}`));
    await page.goto(`${siteUrl}/shop?campaign=browser-test`);
    return { page, calls, failures };
  }

  const rowsOf = (userId: string) =>
    withDb(async (db) => (await db.query<StoredRow>('SELECT type, event, user_id, anonymous_id, properties, traits, context FROM events WHERE source_id = $1 AND user_id = $2 ORDER BY type', [source.id, userId])).rows);

  it("analytics.js with only cdnURL set: loads its settings from Sluice and stores identify, track and page", async () => {
    const userId = uniqueName('ajs-user');
    const { page, calls, failures } = await shopPage();
    await page.addScriptTag({ url: '/analytics-next.js' });
    await page.evaluate(
      async ({ writeKey, cdnURL, userId }) => {
        type Call = (...args: unknown[]) => Promise<unknown>;
        const w = globalThis as unknown as { AnalyticsNext: { AnalyticsBrowser: { load(o: object): Promise<[{ identify: Call; track: Call; page: Call }]> } } };
        const [analytics] = await w.AnalyticsNext.AnalyticsBrowser.load({ writeKey, cdnURL });
        await analytics.identify(userId, { plan: 'pro', email: 'ada@example.com' });
        await analytics.track('Order Completed', { orderId: 'o-1', revenue: 42.5, items: [{ sku: 'a', qty: 2 }] });
        await analytics.page('Shop', { section: 'front' });
      },
      { writeKey: source.writeKey, cdnURL: api, userId },
    );
    const rows = await waitFor(() => rowsOf(userId), (r) => r.length >= 3, 20000);
    expect(failures).toEqual([]);
    expect(calls).toEqual(expect.arrayContaining([`GET /v1/projects/${source.writeKey}/settings 200`, 'POST /v1/i 200', 'POST /v1/t 200', 'POST /v1/p 200']));
    expect(rows.map((r) => r.type)).toEqual(['identify', 'page', 'track']);
    const [identify, pageRow, track] = rows;
    expect(identify.traits).toMatchObject({ plan: 'pro', email: 'ada@example.com' });
    expect(track).toMatchObject({ event: 'Order Completed', properties: { orderId: 'o-1', revenue: 42.5, items: [{ sku: 'a', qty: 2 }] } });
    expect(pageRow.properties).toMatchObject({ section: 'front', path: '/shop' });
    for (const r of rows) {
      expect(r.context?.library?.name).toBe('analytics.js');
      expect(r.context?.page?.url).toBe(`${siteUrl}/shop?campaign=browser-test`);
      expect(r.anonymous_id).toEqual(expect.any(String));
    }
    // One anonymous id for the page, as analytics.js keeps it in its cookie.
    expect(new Set(rows.map((r) => r.anonymous_id)).size).toBe(1);
    await page.close();
  });

  it('RudderStack JavaScript SDK with configUrl and data plane URL: loads /sourceConfig from Sluice, its own headers pass the preflight', async () => {
    const userId = uniqueName('rs-user');
    const { page, calls, failures } = await shopPage();
    await page.addScriptTag({ url: '/rudder-analytics.js' });
    await page.evaluate(
      async ({ writeKey, api, userId }) => {
        type Call = (...args: unknown[]) => void;
        type Rudder = { load(k: string, u: string, o: object): void; identify: Call; track: Call; page: Call };
        const w = globalThis as unknown as { rudderanalytics: { RudderAnalytics: new () => Rudder } };
        const ra = new w.rudderanalytics.RudderAnalytics();
        await new Promise<void>((resolve, reject) => {
          ra.load(writeKey, api, { configUrl: api, onLoaded: () => resolve() });
          setTimeout(() => reject(new Error('the RudderStack SDK did not load in 15 s')), 15000);
        });
        ra.identify(userId, { plan: 'team' });
        ra.track('Checkout Started', { cartValue: 99 });
        ra.page('Shop', 'Front');
      },
      { writeKey: source.writeKey, api, userId },
    );
    const rows = await waitFor(() => rowsOf(userId), (r) => r.length >= 3, 20000);
    expect(failures).toEqual([]);
    expect(calls).toEqual(expect.arrayContaining([expect.stringMatching(/^GET \/sourceConfig\/? 200$/), 'POST /v1/identify 200', 'POST /v1/track 200', 'POST /v1/page 200']));
    expect(rows.map((r) => r.type)).toEqual(['identify', 'page', 'track']);
    expect(rows[2]).toMatchObject({ event: 'Checkout Started', properties: { cartValue: 99 } });
    expect(rows[0].context).toMatchObject({ traits: { plan: 'team' } });
    for (const r of rows) expect(r.context?.library?.name).toBe('RudderLabs JavaScript SDK');
    await page.close();
  });
});

describe('SDK settings routes', () => {
  let t: TestApp;
  let behindIngress: TestApp;
  let source: { id: string; writeKey: string };

  beforeAll(async () => {
    t = await startApp();
    behindIngress = await startApp({ PUBLIC_URL: 'https://example.com/sluice/' });
    source = await createSource(t);
  });
  afterAll(async () => {
    await t?.close();
    await behindIngress?.close();
  });

  it("points analytics.js at the request's own host, or at PUBLIC_URL with its prefix", async () => {
    const own = await t.http.get(`/v1/projects/${source.writeKey}/settings`).set('Host', 'sluice.internal:8080');
    expect(own.status).toBe(200);
    expect(own.headers['cache-control']).toBe('public, max-age=60');
    expect(own.body.integrations['Segment.io']).toMatchObject({ apiKey: source.writeKey, apiHost: 'sluice.internal:8080/v1', protocol: 'http' });
    const ingress = await behindIngress.http.get(`/v1/projects/${source.writeKey}/settings`);
    expect(ingress.body.integrations['Segment.io']).toMatchObject({ apiHost: 'example.com/sluice/v1', protocol: 'https' });
  });

  it('answers CORS preflights from any origin, reflecting the headers an SDK asks for', async () => {
    const pre = await t.http
      .options('/v1/track')
      .set('Origin', 'https://shop.example')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type,anonymousid,rsa-request-attempt');
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('https://shop.example');
    expect(pre.headers['access-control-allow-headers']).toBe('content-type,anonymousid,rsa-request-attempt');
    const settings = await t.http.options('/sourceConfig/').set('Origin', 'https://shop.example').set('Access-Control-Request-Method', 'GET').set('Access-Control-Request-Headers', 'authorization');
    expect(settings.status).toBe(204);
    expect(settings.headers['access-control-allow-origin']).toBe('https://shop.example');
    // Admin routes stay closed to other origins.
    const admin = await t.http.options('/v1/admin/sources').set('Origin', 'https://shop.example').set('Access-Control-Request-Method', 'GET');
    expect(admin.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('gives RudderStack the source for a Basic or query write key, and refuses the rest with a JSON message', async () => {
    const basic = await t.http.get('/sourceConfig/?p=npm&v=3').set('Authorization', `Basic ${Buffer.from(`${source.writeKey}:`).toString('base64')}`);
    expect(basic.status).toBe(200);
    expect(basic.body.source).toMatchObject({ id: source.id, writeKey: source.writeKey, enabled: true, destinations: [] });
    const query = await t.http.get(`/sourceConfig?writeKey=${source.writeKey}`);
    expect(query.body.source.id).toBe(source.id);
    const none = await t.http.get('/sourceConfig/');
    expect(none.status).toBe(401);
    expect(none.body.message).toMatch(/write key/);
    const unknown = await t.http.get(`/v1/projects/sk_write_AAAAAAAA_${'B'.repeat(32)}/settings`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toMatch(/write key/);
    const admin = await t.http.get(`/v1/projects/${t.adminKey}/settings`);
    expect(admin.status).toBe(403);
    expect(admin.body.message).toMatch(/secret/);
    expect(JSON.stringify(admin.body)).not.toContain(t.adminKey);
  });
});
