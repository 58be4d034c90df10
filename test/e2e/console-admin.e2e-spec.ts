import type { Locator, Page } from 'playwright-core';
import { ADMIN_TOKEN, countEvents, startApp, TestApp, waitFor, withDb } from '../support/app';
import { consoleBrowser, ConsoleBrowser, ConsolePage } from '../support/console';
import { uniqueName } from '../support/env';
import { baseUrl } from '../support/sse';

/**
 * The console's admin pages in Chromium, as a new user meets them: the bootstrap token makes the
 * first admin key, which is pasted in the console; a source is created (its write key shown once,
 * with snippets copied to the clipboard) and sends an event; a limit is edited; a read key is
 * made, rotated and revoked; the Audit log shows it all; a source is deleted; a read key sees
 * Sources read-only. Every change is checked through the API or in PostgreSQL, not only on screen.
 */
describe('console admin pages: Sources, Keys, Audit log', () => {
  let t: TestApp;
  let url: string;
  let browser: ConsoleBrowser;
  let admin: { id: string; key: string; keyId: string };
  const startedAt = Date.now();
  const sourceName = uniqueName('web-app');
  let source: { id: string; writeKey: string };
  let readKey: { id: string; key: string; keyId: string };
  let oldReadKey: { id: string; key: string; prefix: string };

  const asAdmin = (req: import('supertest').Test) => req.set('Authorization', `Bearer ${admin.key}`);
  /** The table row whose row header starts with the word `name` (the header adds an id or a kind below it). */
  const rowOf = (page: Page, name: string) => page.locator('tr', { has: page.getByRole('rowheader', { name: new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( |$)`) }) });
  /** The open confirmation dialog. */
  const dialog = (page: Page) => page.getByRole('dialog');
  /** A datetime-local value `minutes` from now, in the browser's time zone. */
  const localTime = (page: Page, minutes: number) =>
    page.evaluate((m) => {
      const d = new Date(Date.now() + m * 60_000);
      const pad = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
    }, minutes);
  /** What the page's Copy button put on the clipboard (the support grants the permission). */
  const clipboard = (page: Page) => page.evaluate('navigator.clipboard.readText()') as Promise<string>;
  /** Clicks the Copy button `label` in `scope`, waits for its "Copied", and reads the clipboard. */
  const copyFrom = async (scope: Locator, label: string) => {
    await scope.getByRole('button', { name: label }).click();
    await scope.getByRole('button', { name: 'Copied' }).waitFor();
    return clipboard(scope.page());
  };
  const expectClean = (p: ConsolePage) => expect(p.problems).toEqual([]);
  /** The locator's count once it reaches `n` (or the last one seen after 10 s): renders settle after a click. */
  const countOf = async (locator: Locator, n: number) => {
    const deadline = Date.now() + 10_000;
    let count = await locator.count();
    while (count !== n && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      count = await locator.count();
    }
    return count;
  };

  beforeAll(async () => {
    t = await startApp();
    url = await baseUrl(t.app);
    browser = await consoleBrowser(url);
    // The first admin key, the way README tells a new user to make it.
    const res = await t.http.post('/v1/admin/keys').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ kind: 'admin', name: 'me' });
    expect(res.status).toBe(201);
    admin = { id: res.body.id, key: res.body.key, keyId: res.body.keyId };
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('creates a source in the console; its write key, shown once with copyable snippets, sends an event', async () => {
    const p = await browser.open();
    await p.signIn(admin.key);
    await p.page.getByRole('heading', { level: 1, name: 'Sources' }).waitFor();
    await p.page.getByRole('heading', { name: 'All sources' }).waitFor();
    await p.expectAccessible();

    await p.page.getByLabel('Source name').fill(sourceName);
    await p.page.getByRole('button', { name: 'Create source' }).click();
    const created = p.page.getByRole('region', { name: `Source “${sourceName}” created` });
    await created.waitFor();
    const writeKey = (await created.getByLabel('The new key').textContent())!.trim();
    expect(writeKey).toMatch(/^sk_write_[A-Za-z0-9]+_[A-Za-z0-9]+$/);
    await expect(created.textContent()).resolves.toContain('will not be shown again');

    // The analytics.js snippet, through the clipboard as a user pastes it.
    const browserSnippet = await copyFrom(created.getByRole('figure', { name: /^In a web page/ }), 'Copy analytics.js snippet');
    expect(browserSnippet).toContain(`AnalyticsBrowser.load({ writeKey: '${writeKey}', cdnURL: '${url}' })`);
    expect(browserSnippet).toContain(`rudderanalytics.load('${writeKey}', '${url}', { configUrl: '${url}' })`);
    const nodeSnippet = await copyFrom(created.getByRole('figure', { name: /^On a server/ }), 'Copy Node SDK snippet');
    expect(nodeSnippet).toContain(`new Analytics({ writeKey: '${writeKey}', host: '${url}', path: '/v1/batch' })`);
    expect(await copyFrom(created.getByRole('figure', { name: /^From a shell/ }), 'Copy curl command')).toContain(`curl -s -X POST '${url}/v1/track' -u '${writeKey}:'`);
    await created.scrollIntoViewIfNeeded();
    await p.screenshot('source-created');
    await p.expectAccessible();

    // It is in PostgreSQL, and the key it showed works.
    const rows = await withDb(async (db) => (await db.query('SELECT id FROM sources WHERE name = $1', [sourceName])).rows);
    expect(rows).toHaveLength(1);
    source = { id: rows[0].id, writeKey };
    const sent = await t.http.post('/v1/track').auth(writeKey, '').send({ userId: 'user-42', event: 'Order Completed', properties: { revenue: 42.5 } });
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ success: true, accepted: 1 });
    expect(await waitFor(() => countEvents(source.id), (n) => n === 1)).toBe(1);

    // Hidden on request, and listed with its write key by prefix.
    await p.page.getByRole('button', { name: 'Done, hide the key' }).click();
    await created.waitFor({ state: 'detached' });
    const row = rowOf(p.page, sourceName);
    await expect(row.textContent()).resolves.toContain(`sk_write_${writeKey.split('_')[2]}_…`);
    await expect(row.textContent()).resolves.toContain(source.id);
    expect(await p.page.content()).not.toContain(writeKey);
    await p.screenshot('sources');
    expectClean(p);
    await p.page.close();
  });

  it('edits a limit, and shows a refused value in the API’s words', async () => {
    const p = await browser.open();
    await p.signIn(admin.key, 'sources');
    const row = rowOf(p.page, sourceName);
    await row.getByRole('button', { name: 'Manage' }).click();
    const panel = p.page.locator(`[id="source-${source.id}"]`);
    await panel.getByLabel('Daily event quota').fill('5000');
    await panel.getByLabel('Retention (days)').fill('30');
    await panel.getByRole('button', { name: 'Save settings' }).click();
    await panel.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const saved = await asAdmin(t.http.get(`/v1/admin/sources/${source.id}`));
    expect(saved.body.limits).toEqual({ rateLimitRps: null, rateLimitEps: null, dailyEventQuota: 5000 });
    expect(saved.body.retention.retentionDays).toBe(30);
    // The list reloads after the save: wait for the row to show the new quota.
    await row.filter({ hasText: /5\D?000 events\/day/ }).waitFor();

    // A negative rate: the API refuses it, and the console says what the API said.
    const refused = await asAdmin(t.http.patch(`/v1/admin/sources/${source.id}`)).send({ rateLimitRps: -1 });
    expect(refused.status).toBe(400);
    await panel.getByLabel('Requests per second').fill('-1');
    await panel.getByRole('button', { name: 'Save settings' }).click();
    await panel.getByRole('alert').filter({ hasText: refused.body.message }).waitFor();
    await expect(panel.getByRole('alert').textContent()).resolves.toContain('(HTTP 400)');
    await p.expectAccessible();
    expectClean(p);
    await p.page.close();
  });

  it('shows a refused source name in the API’s words', async () => {
    const p = await browser.open();
    await p.signIn(admin.key, 'sources');
    for (const name of ['   ', 'x'.repeat(201)]) {
      const api = await asAdmin(t.http.post('/v1/admin/sources')).send({ name });
      expect(api.status).toBe(400);
      await p.page.getByLabel('Source name').fill(name);
      await p.page.getByRole('button', { name: 'Create source' }).click();
      await p.page.getByRole('alert').filter({ hasText: `${api.body.message} (HTTP 400)` }).waitFor();
    }
    expect(await withDb(async (db) => (await db.query("SELECT count(*)::int AS n FROM sources WHERE btrim(name) = '' OR length(name) > 200")).rows[0].n)).toBe(0);
    expectClean(p);
    await p.page.close();
  });

  it('creates a read key scoped to the source, rotates it and revokes the old one', async () => {
    const p = await browser.open();
    await p.signIn(admin.key);
    await p.goTo('Keys');
    await p.page.getByRole('heading', { name: 'All keys' }).waitFor();
    await p.page.getByRole('rowheader', { name: 'me admin key this console' }).waitFor();
    await p.expectAccessible();

    await p.page.getByLabel('Kind').first().selectOption('read');
    await p.page.getByLabel('Key name').fill('dashboards');
    await p.page.getByLabel('Only the sources chosen here').check();
    await p.page.getByRole('group', { name: 'Sources', exact: true }).getByLabel(sourceName).check();
    await p.page.getByRole('button', { name: 'Create key' }).click();
    const shown = p.page.getByRole('region', { name: 'New read key “dashboards”' });
    const first = (await shown.getByLabel('The new key').textContent())!.trim();
    expect(first).toMatch(/^sk_read_/);
    await shown.getByRole('button', { name: 'Copy key' }).click();
    expect(await clipboard(p.page)).toBe(first);
    const me = await t.http.get('/v1/me').set('Authorization', `Bearer ${first}`);
    expect(me.body).toMatchObject({ kind: 'read', sourceIds: [source.id], sources: [{ id: source.id, name: sourceName }] });
    oldReadKey = { id: me.body.id, key: first, prefix: `sk_read_${me.body.keyId}_` };
    await expect(rowOf(p.page, 'dashboards').textContent()).resolves.toContain(sourceName);

    // Rotate, with a 5-minute overlap chosen in the confirmation.
    await rowOf(p.page, 'dashboards').getByRole('button', { name: 'Rotate' }).click();
    await dialog(p.page).getByLabel('The old key keeps working for').selectOption({ label: '5 minutes' });
    await dialog(p.page).getByRole('button', { name: 'Rotate key' }).click();
    const rotated = p.page.getByRole('region', { name: 'Rotated read key “dashboards”' });
    const second = (await rotated.getByLabel('The new key').textContent())!.trim();
    expect(second).toMatch(/^sk_read_/);
    expect(second).not.toBe(first);
    await expect(rotated.textContent()).resolves.toContain('The old key keeps working until');
    const me2 = await t.http.get('/v1/me').set('Authorization', `Bearer ${second}`);
    expect(me2.body).toMatchObject({ kind: 'read', sourceIds: [source.id] });
    readKey = { id: me2.body.id, key: second, keyId: me2.body.keyId };
    const successor = await asAdmin(t.http.get(`/v1/admin/keys/${readKey.id}`));
    expect(successor.body.rotatedFrom).toBe(oldReadKey.id);
    const predecessor = await asAdmin(t.http.get(`/v1/admin/keys/${oldReadKey.id}`));
    const overlap = Date.parse(predecessor.body.expiresAt) - Date.now();
    expect(overlap).toBeGreaterThan(3 * 60_000);
    expect(overlap).toBeLessThanOrEqual(5 * 60_000);
    // Both listed: the successor names its predecessor, the old one is expiring.
    const rows = p.page.locator('tr', { has: p.page.getByRole('rowheader', { name: 'dashboards' }) });
    expect(await countOf(rows, 2)).toBe(2);
    const newRow = rows.filter({ hasText: `sk_read_${readKey.keyId}_` });
    await expect(newRow.textContent()).resolves.toContain(`${oldReadKey.prefix}…`);
    const oldRow = rows.filter({ hasNotText: `sk_read_${readKey.keyId}_` });
    await expect(oldRow.textContent()).resolves.toContain('expiring');
    await p.page.getByRole('heading', { name: 'All keys' }).scrollIntoViewIfNeeded();
    await p.page.evaluate("document.querySelectorAll('.table-wrap').forEach((e) => (e.scrollLeft = 0))");
    await p.screenshot('keys');

    // Revoke the old key: cancel first, then confirm.
    await oldRow.getByRole('button', { name: 'Revoke' }).click();
    await dialog(p.page).getByRole('button', { name: 'Cancel' }).click();
    expect((await asAdmin(t.http.get(`/v1/admin/keys/${oldReadKey.id}`))).body.revokedAt).toBeNull();
    await oldRow.getByRole('button', { name: 'Revoke' }).click();
    await expect(dialog(p.page).textContent()).resolves.toContain(`${oldReadKey.prefix}…`);
    await dialog(p.page).getByRole('button', { name: 'Revoke key' }).click();
    expect(await countOf(rows, 1)).toBe(1);
    expect((await asAdmin(t.http.get(`/v1/admin/keys/${oldReadKey.id}`))).body.revokedAt).not.toBeNull();
    const refused = await waitFor(
      async () => (await t.http.get('/v1/me').set('Authorization', `Bearer ${oldReadKey.key}`)).status,
      (s) => s === 401,
    );
    expect(refused).toBe(401);
    // Shown again with "Include revoked keys", marked revoked and without actions.
    await p.page.getByLabel('Include revoked keys').check();
    expect(await countOf(rows, 2)).toBe(2);
    const revokedRow = rows.filter({ hasNotText: `sk_read_${readKey.keyId}_` });
    await expect(revokedRow.textContent()).resolves.toContain('revoked');
    expect(await revokedRow.getByRole('button').count()).toBe(0);
    // The source filter: only the keys of the source (its write key and the read keys).
    await p.page.getByLabel('Include revoked keys').uncheck();
    await p.page.getByRole('group', { name: 'Filter keys' }).getByLabel('Kind').selectOption('write');
    await p.page.getByRole('group', { name: 'Filter keys' }).getByLabel('Source').selectOption({ label: sourceName });
    expect(await countOf(p.page.locator('tbody tr'), 1)).toBe(1);
    await expect(p.page.locator('tbody tr').textContent()).resolves.toContain(`sk_write_${source.writeKey.split('_')[2]}_`);
    expectClean(p);
    await p.page.close();
  });

  it('shows those actions in the Audit log, filtered, expandable, a page at a time', async () => {
    const p = await browser.open();
    const entries = p.page.locator('tbody tr:not(.audit-details)');
    await p.signIn(admin.key);
    await p.goTo('Audit log');
    await p.page.getByRole('heading', { name: 'Entries' }).waitFor();
    await p.page.getByRole('button', { name: /^Details of / }).first().waitFor();
    await p.expectAccessible();

    // By action (and this suite's admin key: other suites share the database): the one
    // revocation, expandable to its JSON.
    await p.page.getByLabel('Action').fill('key.revoke');
    await p.page.getByLabel('Actor').fill(admin.keyId);
    await p.page.getByRole('button', { name: 'Apply filters' }).click();
    expect(await countOf(entries, 1)).toBe(1);
    const entry = entries.first();
    await expect(entry.textContent()).resolves.toContain(oldReadKey.id);
    await expect(entry.textContent()).resolves.toContain(admin.keyId);
    const details = entry.getByRole('button', { name: /^Details of key\.revoke/ });
    expect(await details.getAttribute('aria-expanded')).toBe('false');
    await details.click();
    expect(await details.getAttribute('aria-expanded')).toBe('true');
    const json = JSON.parse((await p.page.getByLabel(/^Details of audit entry/).textContent())!);
    expect(json).toMatchObject({ action: 'key.revoke', actorType: 'admin_key', actorKeyId: admin.keyId, targetType: 'key', targetId: oldReadKey.id, change: { keyId: oldReadKey.prefix.split('_')[2] } });
    expect(p.page.url()).toContain('action=key.revoke');

    // By target: everything done to the source, newest first.
    await p.page.getByLabel('Action').fill('');
    await p.page.getByLabel('Actor').fill('');
    await p.page.getByLabel('Target').fill(source.id);
    await p.page.getByRole('button', { name: 'Apply filters' }).click();
    expect(await countOf(entries, 2)).toBe(2);
    expect(await p.page.locator('tbody tr td:nth-child(2)').allTextContents()).toEqual(['source.update', 'source.create']);

    // By actor, target and time: the bootstrap token made this suite's admin key; nothing
    // before the test started.
    await p.page.getByLabel('Target').fill(admin.id);
    await p.page.getByLabel('Actor').fill('admin_token');
    await p.page.getByLabel('From (inclusive)').fill(await localTime(p.page, -Math.ceil((Date.now() - startedAt) / 60_000) - 1));
    await p.page.getByRole('button', { name: 'Apply filters' }).click();
    expect(await countOf(entries, 1)).toBe(1);
    await expect(entries.textContent()).resolves.toContain('key.create');
    await p.page.getByLabel('To (exclusive)').fill(await localTime(p.page, -24 * 60));
    await p.page.getByRole('button', { name: 'Apply filters' }).click();
    await p.page.getByText('No entry matches these filters.').waitFor();
    await p.page.getByRole('button', { name: 'Clear' }).click();
    await p.page.getByRole('button', { name: /^Details of / }).first().waitFor();

    // More than a page (50) of changes to one source: "Load more" fetches the rest.
    // (Paced: the admin API allows API_RATE_LIMIT_RPS = 50 requests per second per key.)
    for (let i = 1; i <= 55; i++) {
      if (i % 25 === 0) await new Promise((r) => setTimeout(r, 1100));
      await asAdmin(t.http.patch(`/v1/admin/sources/${source.id}`)).send({ rateLimitRps: i }).expect(200);
    }
    await p.page.getByLabel('Target').fill(source.id);
    await p.page.getByLabel('Action').fill('source.update');
    // The unfiltered list on screen has a "Load more" of its own: wait for the filtered page.
    const filtered = p.page.waitForResponse((r) => r.url().includes('v1/admin/audit') && r.url().includes(source.id) && r.url().includes('source.update'));
    await p.page.getByRole('button', { name: 'Apply filters' }).click();
    await filtered;
    await p.page.getByText('50 entries, more below').waitFor();
    await p.page.getByRole('button', { name: 'Load more' }).waitFor();
    expect(await entries.count()).toBe(50);
    await p.page.getByRole('button', { name: 'Load more' }).click();
    expect(await countOf(entries, 56)).toBe(56);
    await p.page.getByText('56 entries, the end of the log').waitFor();
    expect(await p.page.getByRole('button', { name: 'Load more' }).count()).toBe(0);
    await p.page.getByRole('button', { name: 'Clear' }).click();
    await p.page.getByRole('button', { name: /^Details of / }).first().waitFor();
    await p.screenshot('audit');
    expectClean(p);
    await p.page.close();
  });

  it('deletes a source through its confirmation dialog', async () => {
    const doomed = uniqueName('old-site');
    const made = await asAdmin(t.http.post('/v1/admin/sources')).send({ name: doomed });
    expect(made.status).toBe(201);
    const p = await browser.open();
    await p.signIn(admin.key, 'sources');
    const row = rowOf(p.page, doomed);
    await row.getByRole('button', { name: 'Delete' }).click();
    await expect(dialog(p.page).textContent()).resolves.toContain(`Delete the source “${doomed}”`);
    await dialog(p.page).getByRole('button', { name: 'Cancel' }).click();
    expect((await asAdmin(t.http.get(`/v1/admin/sources/${made.body.id}`))).status).toBe(200);
    await row.getByRole('button', { name: 'Delete' }).click();
    await dialog(p.page).getByRole('button', { name: 'Delete source' }).click();
    await p.page.getByRole('status').filter({ hasText: `Deleted the source “${doomed}”` }).waitFor();
    await row.waitFor({ state: 'detached' });
    expect(await withDb(async (db) => (await db.query('SELECT count(*)::int AS n FROM sources WHERE id = $1', [made.body.id])).rows[0].n)).toBe(0);
    expect((await t.http.post('/v1/track').auth(made.body.writeKey, '').send({ userId: 'u', event: 'e' })).status).toBe(401);
    await rowOf(p.page, sourceName).waitFor();
    expectClean(p);
    await p.page.close();
  });

  it('shows a read key its sources read-only, and neither Keys nor the Audit log', async () => {
    const p = await browser.open();
    await p.signIn(readKey.key);
    const links = await p.page.getByRole('navigation', { name: 'Pages' }).getByRole('link').allTextContents();
    expect(links).toContain('Sources');
    expect(links).not.toContain('Keys');
    expect(links).not.toContain('Audit log');
    await p.goTo('Sources');
    const row = rowOf(p.page, sourceName);
    await expect(row.textContent()).resolves.toContain(source.id);
    expect(await p.page.locator('main').getByRole('button').count()).toBe(0);
    expect(await p.page.getByLabel('Source name').count()).toBe(0);
    await p.expectAccessible();
    // Typed URLs of admin pages land on a page the key may see.
    for (const hash of ['keys', 'audit']) {
      await p.page.goto(`${url}/console/#/${hash}`);
      await p.page.waitForFunction("location.hash === '#/sources'");
      await p.page.getByRole('heading', { level: 1, name: 'Sources' }).waitFor();
    }
    expectClean(p);
    await p.page.close();
  });

  it('is usable on a 390×844 phone', async () => {
    const p = await browser.open({ width: 390, height: 844 });
    await p.signIn(admin.key, 'sources');
    const fits = () => p.page.evaluate('document.documentElement.scrollWidth <= window.innerWidth');
    for (const [title, controls] of [
      ['Sources', ['Source name', 'Create source']],
      ['Keys', ['Key name', 'Create key']],
      ['Audit log', ['Action', 'Apply filters']],
    ] as const) {
      await p.goTo(title);
      const outside: string[] = [];
      for (const c of controls) {
        const el = c.startsWith('Create') || c.startsWith('Apply') ? p.page.getByRole('button', { name: c }) : p.page.getByLabel(c).first();
        await el.scrollIntoViewIfNeeded();
        const box = (await el.boundingBox())!;
        if (box.x < 0 || box.x + box.width > 390) outside.push(`${title}: ${c} at ${box.x}+${box.width}`);
      }
      expect(outside).toEqual([]);
      expect(await fits()).toBe(true);
      await p.expectAccessible();
    }
    // The created-source view with its snippets fits too.
    await p.goTo('Sources');
    await p.page.getByLabel('Source name').fill(uniqueName('phone'));
    await p.page.getByRole('button', { name: 'Create source' }).click();
    const copy = p.page.getByRole('button', { name: 'Copy analytics.js snippet' });
    await copy.scrollIntoViewIfNeeded();
    expect((await copy.boundingBox())!.x + (await copy.boundingBox())!.width).toBeLessThanOrEqual(390);
    expect(await fits()).toBe(true);
    await p.expectAccessible();
    expectClean(p);
    await p.page.close();
  });
});

