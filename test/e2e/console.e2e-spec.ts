import { createServer, request as httpRequest, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { startApp, TestApp, createSource } from '../support/app';
import { consoleBrowser, ConsoleBrowser } from '../support/console';
import { baseUrl } from '../support/sse';

/**
 * The console's shell in Chromium: served by the api role at /console/ with its own strict CSP,
 * the key prompt (checked with GET /v1/me, kept in sessionStorage only), pages by key kind, and
 * 401/403 leading back to the prompt with the API's words. The pages have suites of their own
 * (console-*.e2e-spec.ts).
 */
describe('console shell', () => {
  let t: TestApp;
  let url: string;
  let browser: ConsoleBrowser;

  beforeAll(async () => {
    t = await startApp();
    url = await baseUrl(t.app);
    browser = await consoleBrowser(url);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('serves the console with a CSP that allows only its own files and API', async () => {
    const redirect = await t.http.get('/console');
    expect(redirect.status).toBe(308);
    expect(redirect.headers.location).toBe('console/');
    const index = await t.http.get('/console/');
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toMatch(/text\/html/);
    expect(index.headers['cache-control']).toBe('no-cache');
    const csp = index.headers['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(index.text).not.toMatch(/<script>(?!<\/script>)|<style>| style=/);
    const asset = /src="\.\/(assets\/[^"]+\.js)"/.exec(index.text)![1];
    const js = await t.http.get(`/console/${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers['cache-control']).toContain('immutable');
    const missing = await t.http.get('/console/assets/nope.js');
    expect(missing.status).toBe(404);
  });

  it('GET /v1/me describes the key and its sources, never a secret', async () => {
    const source = await createSource(t);
    const me = await t.http.get('/v1/me').set('Authorization', `Bearer ${t.adminKey}`);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ kind: 'admin', sourceIds: null });
    expect(me.body.sources).toContainEqual({ id: source.id, name: expect.any(String) });
    expect(JSON.stringify(me.body)).not.toContain(t.adminKey);
    const write = await t.http.get('/v1/me').set('Authorization', `Bearer ${source.writeKey}`);
    expect(write.body).toMatchObject({ kind: 'write', sourceId: source.id, sources: [{ id: source.id }] });
    const other = await createSource(t);
    const read = await t.http.post('/v1/admin/keys').set('Authorization', `Bearer ${t.adminKey}`).send({ kind: 'read', sourceIds: [other.id] });
    const asRead = await t.http.get('/v1/me').set('Authorization', `Bearer ${read.body.key}`);
    expect(asRead.body).toMatchObject({ kind: 'read', sourceIds: [other.id], sources: [{ id: other.id }] });
    const none = await t.http.get('/v1/me');
    expect(none.status).toBe(401);
    expect(none.body.message).toMatch(/Authorization: Bearer/);
  });

  it('asks for a key, shows the API refusal in its words, and keeps the key in sessionStorage only', async () => {
    const p = await browser.open();
    await p.page.goto(`${url}/console/`);
    await p.expectAccessible();
    await p.page.getByLabel('API key').fill('sk_admin_nope_nope');
    await p.page.getByRole('button', { name: 'Open the console' }).click();
    await p.page.getByRole('alert').filter({ hasText: 'Unknown, revoked or expired key.' }).waitFor();
    await p.screenshot('key-prompt');
    await p.signIn(t.adminKey);
    const links = await p.page.getByRole('navigation', { name: 'Pages' }).getByRole('link').allTextContents();
    expect(links).toEqual(['Sources', 'Live debugger', 'Explorer', 'Insights', 'Dead letters', 'Privacy', 'Tracking plans', 'Keys', 'Audit log']);
    // (strings: the tests are type-checked without the DOM library)
    const stored = (await p.page.evaluate('({ session: { ...sessionStorage }, local: { ...localStorage }, cookie: document.cookie, url: location.href })')) as { session: Record<string, string>; local: Record<string, string>; cookie: string; url: string };
    expect(Object.values(stored.session)).toContain(t.adminKey);
    expect(JSON.stringify(stored.local)).not.toContain(t.adminKey);
    expect(stored.cookie).toBe('');
    expect(stored.url).not.toContain(t.adminKey);
    // A reload keeps the session; "Forget key" ends it.
    await p.page.reload();
    await p.page.getByRole('navigation', { name: 'Pages' }).waitFor();
    await p.page.getByRole('button', { name: 'Forget key' }).click();
    await p.page.getByLabel('API key').waitFor();
    expect(await p.page.evaluate('JSON.stringify(sessionStorage)')).not.toContain(t.adminKey);
    expect(p.problems).toEqual([]);
    await p.page.close();
  });

  it('shows a read key only the pages it may use, and a revoked key leads back to the prompt', async () => {
    const source = await createSource(t);
    const read = await t.http.post('/v1/admin/keys').set('Authorization', `Bearer ${t.adminKey}`).send({ kind: 'read', sourceIds: [source.id] });
    const p = await browser.open({ width: 390, height: 844 });
    await p.signIn(read.body.key);
    const links = await p.page.getByRole('navigation', { name: 'Pages' }).getByRole('link').allTextContents();
    expect(links).toEqual(['Sources', 'Live debugger', 'Explorer', 'Insights', 'Tracking plans']);
    await t.http.post(`/v1/admin/keys/${read.body.id}/revoke`).set('Authorization', `Bearer ${t.adminKey}`).expect(200);
    await p.page.reload();
    await p.page.getByRole('alert').filter({ hasText: /revoked/ }).waitFor();
    await p.page.getByLabel('API key').waitFor();
    expect(p.problems).toEqual([]);
    await p.page.close();
  });

  it('works on a sub-path behind an ingress that strips it (/sluice/console/ -> /console/)', async () => {
    const target = new URL(url);
    const seen: string[] = [];
    const ingress: Server = createServer((req, res) => {
      if (!req.url?.startsWith('/sluice/')) {
        res.statusCode = 404;
        return res.end('not routed');
      }
      seen.push(req.url);
      const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url.slice('/sluice'.length), headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => ingress.listen(0, '127.0.0.1', resolve));
    try {
      const p = await browser.open();
      await p.page.goto(`http://127.0.0.1:${(ingress.address() as AddressInfo).port}/sluice/console`);
      await p.page.getByLabel('API key').fill(t.adminKey);
      await p.page.getByRole('button', { name: 'Open the console' }).click();
      await p.page.getByRole('navigation', { name: 'Pages' }).waitFor();
      expect(seen).toContain('/sluice/console/');
      expect(seen).toContain('/sluice/v1/me');
      expect(p.problems).toEqual([]);
      await p.page.close();
    } finally {
      await new Promise((resolve) => ingress.close(resolve));
    }
  });

  it('is usable by keyboard alone: sign in, move between pages, open and cancel a confirmation', async () => {
    const p = await browser.open();
    const page = p.page;
    await page.goto(`${url}/console/`);
    // The key field has focus on arrival (once the page has rendered); Enter submits.
    await page.waitForFunction('document.activeElement && document.activeElement.getAttribute("type") === "password"');
    await page.keyboard.type(t.adminKey);
    await page.keyboard.press('Enter');
    await page.getByRole('navigation', { name: 'Pages' }).waitFor();
    const focused = () => page.evaluate('document.activeElement ? (document.activeElement.getAttribute("aria-label") || document.activeElement.textContent || "").trim() : ""') as Promise<string>;
    // Tab to a nav link and follow it with Enter.
    let reached = false;
    for (let i = 0; i < 30 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = (await focused()) === 'Keys';
    }
    expect(reached).toBe(true);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Keys' }).waitFor();
    // A destructive action asks first; Escape cancels and nothing changes.
    const revoke = page.getByRole('button', { name: /^Revoke/ }).first();
    await revoke.waitFor();
    await revoke.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    const still = await t.http.get('/v1/me').set('Authorization', `Bearer ${t.adminKey}`);
    expect(still.status).toBe(200);
    expect(p.problems).toEqual([]);
    await page.close();
  });
});
