import { Analytics } from '@segment/analytics-node';
import type { Locator, Page } from 'playwright-core';
import { LiveService } from '../../src/live/live.service';
import { DeadLettersRepository } from '../../src/processing/dead-letters.repository';
import { countEvents, createSource, startApp, TestApp, waitFor } from '../support/app';
import { consoleBrowser, ConsoleBrowser, ConsolePage } from '../support/console';
import { uniqueName } from '../support/env';
import { baseUrl } from '../support/sse';

/**
 * The console's data pages in Chromium, fed by the Segment Node SDK: the live debugger (SSE read
 * with fetch), the explorer (filters, receipts) and insights (counts, funnel, retention).
 */
describe('console data pages: live debugger, explorer, insights', () => {
  let t: TestApp;
  let url: string;
  let browser: ConsoleBrowser;
  let source: { id: string; writeKey: string };
  /** Events this suite sent to the source (what the database should hold once written). */
  let sent = 0;

  type Call = { event: string; userId: string; properties?: Record<string, unknown>; timestamp?: Date };
  /** Tracks through the SDK; resolves when closeAndFlush() did, with the time it did. */
  async function send(calls: Call[]): Promise<number> {
    const analytics = new Analytics({ writeKey: source.writeKey, host: url, flushAt: 1, maxRetries: 3 });
    const errors: unknown[] = [];
    analytics.on('error', (e) => errors.push(e));
    for (const c of calls) analytics.track(c);
    await analytics.closeAndFlush({ timeout: 20_000 });
    expect(errors).toEqual([]);
    sent += calls.length;
    return Date.now();
  }
  const stored = async () => expect(await waitFor(() => countEvents(source.id), (n) => n >= sent, 30_000)).toBe(sent);

  async function openOn(page: string, size?: { width: number; height: number }, key = t.adminKey): Promise<ConsolePage> {
    const p = await browser.open(size);
    await p.signIn(key, page);
    await p.page.locator('.source-pick select').selectOption(source.id);
    return p;
  }
  const heading = (p: ConsolePage, name: string) => p.page.getByRole('heading', { level: 1, name });
  const liveBadge = (page: Page) => page.locator('.live-state').getByText('Live', { exact: true });
  const rows = (page: Page) => page.locator('table.events tbody tr:not(.detail)');
  /** The page fits a phone: nothing wider than the viewport but what scrolls inside .table-wrap. */
  async function fitsPhone(page: Page): Promise<void> {
    const { scroll, width } = await page.evaluate<{ scroll: number; width: number }>('({ scroll: document.documentElement.scrollWidth, width: window.innerWidth })');
    expect(scroll).toBeLessThanOrEqual(width);
  }
  async function tableTotal(page: Page): Promise<number> {
    const cell = page.locator('table.counts tfoot td.total');
    return Number((await cell.textContent())!.replace(/[^\d]/g, ''));
  }

  beforeAll(async () => {
    t = await startApp();
    url = await baseUrl(t.app);
    browser = await consoleBrowser(url);
    source = await createSource(t, uniqueName('console-data'));
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('live debugger: SDK events appear within a second, pause holds them, a filter reopens the stream, a row expands to its JSON', async () => {
    const p = await browser.open();
    const start = Date.now();
    await p.signIn(t.adminKey, 'live');
    await p.page.locator('.source-pick select').selectOption(source.id);
    await heading(p, 'Live debugger').waitFor();
    await liveBadge(p.page).waitFor({ timeout: 10_000 });
    console.log(`live debugger: first render ${Date.now() - start} ms (page.goto, key prompt, source choice, stream connected)`);
    await p.page.getByText(/Sampling: at most 50 events per second/).waitFor();
    await p.page.getByText(/Waiting for events/).waitFor();
    await p.expectAccessible();

    const flushed = await send([{ event: 'Live Check', userId: 'live-user-1', properties: { plan: 'pro', seats: 3 } }]);
    await rows(p.page).filter({ hasText: 'Live Check' }).first().waitFor({ timeout: 10_000 });
    console.log(`live debugger: first event visible ${Date.now() - flushed} ms after the SDK's flush`);
    await send([
      { event: 'Live Second', userId: 'live-user-2' },
      { event: 'Live Third', userId: 'live-user-3' },
    ]);
    await rows(p.page).filter({ hasText: 'Live Third' }).waitFor({ timeout: 10_000 });
    expect(await rows(p.page).count()).toBe(3);
    // Newest on top.
    await expect(rows(p.page).first().textContent()).resolves.toContain('Live Third');
    await expect(rows(p.page).last().textContent()).resolves.toContain('live-user-1');

    // Pause: what arrives is counted, not shown, until Resume.
    await p.page.getByRole('button', { name: 'Pause' }).click();
    await send([{ event: 'While Paused', userId: 'live-user-4' }]);
    const resume = p.page.getByRole('button', { name: 'Resume (1 new)' });
    await resume.waitFor({ timeout: 10_000 });
    expect(await rows(p.page).filter({ hasText: 'While Paused' }).count()).toBe(0);
    expect(await rows(p.page).count()).toBe(3);
    await resume.click();
    await rows(p.page).filter({ hasText: 'While Paused' }).waitFor();
    expect(await rows(p.page).count()).toBe(4);

    // A filter by event name reopens the stream with the server-side filter.
    await p.page.getByLabel('Event name').fill('Filtered In');
    await p.page.getByRole('button', { name: 'Apply filter' }).click();
    await p.page.locator('.live-state').filter({ hasText: 'named “Filtered In”' }).waitFor({ timeout: 10_000 });
    await send([
      { event: 'Filtered Out', userId: 'live-user-5' },
      { event: 'Filtered In', userId: 'live-user-6', properties: { color: 'teal', size: 42 } },
    ]);
    await rows(p.page).filter({ hasText: 'Filtered In' }).waitFor({ timeout: 10_000 });
    expect(await rows(p.page).allTextContents()).toEqual([expect.stringContaining('Filtered In')]);

    // Expand: the row's JSON, with the properties sent.
    const expand = p.page.getByRole('button', { name: /JSON of track Filtered In/ });
    await expect(expand.getAttribute('aria-expanded')).resolves.toBe('false');
    await expand.click();
    await expect(expand.getAttribute('aria-expanded')).resolves.toBe('true');
    const json = p.page.locator('pre.json');
    await json.waitFor();
    const payload = JSON.parse((await json.textContent())!);
    expect(payload).toMatchObject({ type: 'track', event: 'Filtered In', userId: 'live-user-6', properties: { color: 'teal', size: 42 } });
    expect(JSON.stringify(payload)).not.toContain(source.writeKey);
    await p.expectAccessible();

    // Back to all events, for the screenshot with several rows.
    await p.page.getByRole('button', { name: 'Clear filter' }).click();
    await p.page.locator('.live-state').filter({ hasText: 'all events of the source' }).waitFor({ timeout: 10_000 });
    await send([
      { event: 'Order Completed', userId: 'shot-1', properties: { revenue: 42.5 } },
      { event: 'Product Viewed', userId: 'shot-2', properties: { sku: 'a-1' } },
      { event: 'Signed Up', userId: 'shot-3' },
    ]);
    await rows(p.page).filter({ hasText: 'Signed Up' }).waitFor({ timeout: 10_000 });
    await p.page.getByRole('button', { name: /JSON of track Order Completed/ }).click();
    await p.expectAccessible();
    await p.screenshot('live');

    // Leaving the page ends its stream.
    const live = t.app.get(LiveService);
    expect(live.listenerCount).toBe(1);
    await p.goTo('Explorer');
    expect(await waitFor(async () => live.listenerCount, (n) => n === 0, 10_000)).toBe(0);
    expect(p.problems).toEqual([]);
    await p.page.close();
  });

  it('explorer: finds events by filters, pages through them, expands them, and looks receipts up (stored, dead-lettered, unknown)', async () => {
    await send(Array.from({ length: 15 }, (_, i) => ({ event: 'Bulk', userId: `bulk-${i}`, properties: { i } })));
    await stored();
    const p = await openOn('explorer');
    await heading(p, 'Explorer').waitFor();
    await rows(p.page).first().waitFor();
    expect(await rows(p.page).count()).toBe(sent);
    await p.expectAccessible();

    // By event name.
    await p.page.getByLabel('Event name (track)').fill('Filtered In');
    await p.page.getByRole('button', { name: 'Search' }).click();
    await p.page.waitForURL(/event=Filtered/);
    await rows(p.page).filter({ hasText: 'live-user-6' }).waitFor();
    expect(await rows(p.page).count()).toBe(1);
    // By userId (and nothing else).
    await p.page.getByLabel('Event name (track)').fill('');
    await p.page.getByLabel('userId').fill('live-user-2');
    await p.page.getByRole('button', { name: 'Search' }).click();
    await rows(p.page).filter({ hasText: 'Live Second' }).waitFor();
    expect(await rows(p.page).count()).toBe(1);
    // By a property.
    await p.page.getByLabel('userId').fill('');
    await p.page.getByRole('button', { name: 'Add field filter' }).click();
    await p.page.getByLabel('Filter 1: field').fill('color');
    await p.page.getByLabel('Filter 1: value').fill('teal');
    await p.page.getByRole('button', { name: 'Search' }).click();
    await p.page.waitForURL(/properties\.color=teal/);
    await rows(p.page).filter({ hasText: 'Filtered In' }).waitFor();
    expect(await rows(p.page).count()).toBe(1);
    // None.
    await p.page.getByLabel('Filter 1: value').fill('mauve');
    await p.page.getByRole('button', { name: 'Search' }).click();
    await p.page.getByText(/No stored event matches these filters/).waitFor();

    // Pagination: 20 per page, then "Load more" for the rest.
    await p.page.getByRole('button', { name: 'Reset filters' }).click();
    await rows(p.page).nth(sent - 1).waitFor();
    await p.page.getByLabel('Per page').selectOption('20');
    await p.page.getByRole('button', { name: 'Search' }).click();
    await p.page.waitForURL(/limit=20/);
    await p.page.getByRole('button', { name: 'Load more' }).waitFor();
    expect(await rows(p.page).count()).toBe(20);
    await p.page.getByRole('button', { name: 'Load more' }).click();
    await rows(p.page).nth(sent - 1).waitFor();
    expect(await rows(p.page).count()).toBe(sent);
    await p.page.getByText(`${sent} events shown, newest first.`).waitFor();
    expect(await p.page.getByRole('button', { name: 'Load more' }).count()).toBe(0);

    // Expand a row: its JSON, and its receipt from the row.
    await p.page.getByLabel('Per page').selectOption('100');
    await p.page.getByLabel('Event name (track)').fill('Order Completed');
    await p.page.getByRole('button', { name: 'Search' }).click();
    await p.page.waitForURL(/event=Order/);
    await rows(p.page).filter({ hasText: 'shot-1' }).waitFor();
    const expand = p.page.getByRole('button', { name: /JSON of track Order Completed/ });
    await expand.click();
    await expect(expand.getAttribute('aria-expanded')).resolves.toBe('true');
    const event = JSON.parse((await p.page.locator('pre.json').textContent())!);
    expect(event).toMatchObject({ type: 'track', event: 'Order Completed', userId: 'shot-1', properties: { revenue: 42.5 } });
    expect(event.messageId).toEqual(expect.any(String));
    await p.expectAccessible();
    await p.screenshot('explorer');

    await p.page.getByRole('button', { name: 'Look up its receipt' }).click();
    const receipt = p.page.locator('.receipt');
    await receipt.getByText('Stored', { exact: true }).waitFor();
    await expect(receipt.textContent()).resolves.toContain(event.messageId);
    await expect(p.page.getByLabel('messageId').inputValue()).resolves.toBe(event.messageId);

    // Unknown: the API's words.
    await p.page.getByLabel('messageId').fill('no-such-message-42');
    await p.page.getByRole('button', { name: 'Look up', exact: true }).click();
    await receipt.getByText('Unknown', { exact: true }).waitFor();
    await receipt.getByText(/No event no-such-message-42 in this source, stored or dead-lettered/).waitFor();

    // Dead-lettered (as the worker writes one): reason and a way to the dead letters.
    await t.app.get(DeadLettersRepository).insert(
      [{ event: { s: source.id, t: new Date().toISOString(), r: 'req-dl-1', e: { messageId: 'dl-console-1', type: 'track', event: 'Broken', userId: 'u-1' } as never }, code: 'rejected_by_postgres', reason: 'PostgreSQL refused the event: invalid input syntax' }],
      'job-console',
      1,
    );
    await p.page.getByLabel('messageId').fill('dl-console-1');
    await p.page.getByRole('button', { name: 'Look up', exact: true }).click();
    await receipt.getByText('Dead-lettered', { exact: true }).first().waitFor();
    await receipt.getByText(/PostgreSQL refused the event: invalid input syntax/).waitFor();
    const letter = receipt.getByRole('link', { name: /^Open dead letter \d+$/ });
    await expect(letter.getAttribute('href')).resolves.toMatch(/^#\/dead-letters\/\d+$/);
    await p.expectAccessible();
    expect(p.problems).toEqual([]);
    await p.page.close();
  });

  it('insights: the counts move, a funnel counts the users who did A then B, retention renders', async () => {
    await stored();
    const p = await openOn('insights');
    await heading(p, 'Insights').waitFor();
    const summary = p.page.getByText('Table view: events per hour');
    await summary.waitFor();
    await p.page.locator('.chart canvas').first().waitFor();
    await summary.click();
    const before = await tableTotal(p.page);
    expect(before).toBe(sent);
    await p.page.getByRole('table').filter({ hasText: 'Live Check' }).waitFor(); // top events
    await p.expectAccessible();
    await p.screenshot('insights');

    await send([
      { event: 'Counted', userId: 'count-1' },
      { event: 'Counted', userId: 'count-2' },
      { event: 'Counted', userId: 'count-3' },
    ]);
    await stored();
    await p.page.getByRole('button', { name: 'Apply / refresh' }).click();
    await p.page.locator('table.counts tfoot td.total').filter({ hasText: String(before + 3) }).waitFor();
    expect(await tableTotal(p.page)).toBe(before + 3);

    // Grouped by event: one series (and table column) per event name.
    await p.page.getByLabel('Group by').selectOption('event');
    await p.page.locator('table.counts thead').getByText('Counted', { exact: true }).waitFor();
    await expect(p.page.locator('table.counts tfoot td.total').textContent()).resolves.toBe(String(before + 3));

    // Only one event name: the 3 just sent.
    await p.page.getByLabel('Group by').selectOption('');
    await p.page.getByLabel('Only event (track)').fill('Counted');
    await p.page.getByRole('button', { name: 'Filter', exact: true }).click();
    await p.page.locator('table.counts tfoot td.total').filter({ hasText: /^3$/ }).waitFor();
    await p.page.getByLabel('Only event (track)').fill('');
    await p.page.getByRole('button', { name: 'Filter', exact: true }).click();
    await p.page.locator('table.counts tfoot td.total').filter({ hasText: String(before + 3) }).waitFor();

    // Too many buckets: the API's 400 as it says it.
    await p.page.getByLabel(/^Range/).selectOption('30d');
    await p.page.getByRole('button', { name: 'Apply / refresh' }).click();
    await p.page.getByLabel('Interval').first().selectOption('minute');
    await p.page.getByRole('alert').filter({ hasText: /minute buckets; at most 5000 per answer/ }).waitFor();
    await p.page.getByLabel('Interval').first().selectOption('auto');

    // A funnel: 3 users did A, 2 of them then B (a minute later), 1 also did A after B only.
    const now = Date.now();
    const at = (msAgo: number) => new Date(now - msAgo);
    await send([
      { event: 'Funnel A', userId: 'f-1', timestamp: at(120_000) },
      { event: 'Funnel A', userId: 'f-2', timestamp: at(120_000) },
      { event: 'Funnel A', userId: 'f-3', timestamp: at(120_000) },
      { event: 'Funnel B', userId: 'f-1', timestamp: at(60_000) },
      { event: 'Funnel B', userId: 'f-2', timestamp: at(60_000) },
      { event: 'Funnel B', userId: 'f-4', timestamp: at(60_000) },
      // Retention: a cohort of 3 on one day, 2 of them back the next day.
      { event: 'Ret Start', userId: 'r-1', timestamp: at(2 * 86_400_000) },
      { event: 'Ret Start', userId: 'r-2', timestamp: at(2 * 86_400_000) },
      { event: 'Ret Start', userId: 'r-3', timestamp: at(2 * 86_400_000) },
      { event: 'Ret Back', userId: 'r-1', timestamp: at(86_400_000) },
      { event: 'Ret Back', userId: 'r-2', timestamp: at(86_400_000) },
    ]);
    await stored();
    await p.page.getByLabel(/^Range/).selectOption('7d');
    await p.page.getByRole('button', { name: 'Apply / refresh' }).click();

    const funnel = p.page.getByRole('form', { name: 'Funnel' });
    await funnel.getByLabel('Step 1 event').fill('Funnel A');
    await funnel.getByLabel('Step 2 event').fill('Funnel B');
    await funnel.getByRole('button', { name: 'Add step' }).click();
    await funnel.getByLabel('Step 3 event').waitFor();
    await funnel.getByRole('button', { name: 'Remove step 3' }).click();
    expect(await funnel.getByLabel(/Step \d event/).count()).toBe(2);
    await funnel.locator('input[type=number]').fill('1');
    await funnel.getByLabel('Window unit').selectOption('h');
    await funnel.getByRole('button', { name: 'Run funnel' }).click();
    const result = p.page.locator('table.funnel tbody tr');
    await result.nth(1).waitFor();
    const cells = async (row: Locator) => (await row.locator('td, th').allTextContents()).map((s) => s.trim());
    expect((await cells(result.nth(0))).slice(0, 5)).toEqual(['1', 'Funnel A', '3', '100%', '—']);
    expect((await cells(result.nth(1))).slice(0, 5)).toEqual(['2', 'Funnel B', '2', '66.7%', '66.7%']);
    expect((await cells(result.nth(1)))[5]).toMatch(/^1(\.0)? min$/);
    await p.page.locator('table.funnel').scrollIntoViewIfNeeded();
    await p.expectAccessible();
    await p.screenshot('funnel');

    // Retention by day: the cohort of 3, 2 back on day 1.
    const retention = p.page.getByRole('form', { name: 'Retention' });
    await retention.getByLabel('Cohort event').fill('Ret Start');
    await retention.getByLabel('Return event').fill('Ret Back');
    await retention.getByLabel('Periods').fill('3');
    await retention.getByRole('button', { name: 'Show retention' }).click();
    // A row per day of the range (empty cohorts too); the one of the 3 users: day 1 back, day 2 none, day 3 to come.
    const cohorts = p.page.locator('table.retention tbody tr');
    await cohorts.first().waitFor();
    expect(await cohorts.count()).toBeGreaterThanOrEqual(7);
    const cohort = cohorts.filter({ has: p.page.locator('td:nth-child(2)', { hasText: /^3$/ }) });
    expect(await cohort.count()).toBe(1);
    const c = await cells(cohort);
    expect(c.slice(1)).toEqual(['3', '66.7% (2 users)', '0% (0 users)', '— (not yet)']);
    await expect(cohort.locator('td.heat').first().getAttribute('class')).resolves.toMatch(/heat-6/);
    expect(await cohorts.filter({ has: p.page.locator('td:nth-child(2)', { hasText: /^0$/ }) }).count()).toBe((await cohorts.count()) - 1);
    await p.page.locator('table.retention').scrollIntoViewIfNeeded();
    await p.expectAccessible();
    expect(p.problems).toEqual([]);
    await p.page.close();
  });

  it("live debugger: a 503 (listener limit) is shown in the API's words while it retries", async () => {
    const off = await startApp({ LIVE_MAX_LISTENERS: '0' });
    const offBrowser = await consoleBrowser(await baseUrl(off.app));
    try {
      const offSource = await createSource(off);
      const p = await offBrowser.open();
      await p.signIn(off.adminKey, 'live');
      await p.page.locator('.source-pick select').selectOption(offSource.id);
      const state = p.page.locator('.live-state');
      await state.getByText('Reconnecting', { exact: true }).waitFor({ timeout: 10_000 });
      await state.getByText('The live debugger is off on this instance (LIVE_MAX_LISTENERS=0). (HTTP 503)', { exact: false }).waitFor();
      await state.getByRole('button', { name: 'Reconnect now' }).click();
      await state.getByText(/in \d+ s: The live debugger is off/).waitFor({ timeout: 10_000 });
      await p.expectAccessible();
      // The browser logs each refused request (503 is the point here); nothing else.
      expect(p.problems.filter((m) => !/status of 503/.test(m))).toEqual([]);
      await p.page.close();
    } finally {
      await offBrowser.close();
      await off.close();
    }
  });

  it('each page is usable on a 390-px-wide phone, with a read key', async () => {
    const read = await t.http.post('/v1/admin/keys').set('Authorization', `Bearer ${t.adminKey}`).send({ kind: 'read', sourceIds: [source.id] });
    expect(read.status).toBe(201);
    for (const [hash, title] of [
      ['live', 'Live debugger'],
      ['explorer', 'Explorer'],
      ['insights', 'Insights'],
    ] as const) {
      const p = await openOn(hash, { width: 390, height: 844 }, read.body.key);
      await heading(p, title).waitFor();
      if (hash === 'live') {
        await liveBadge(p.page).waitFor({ timeout: 10_000 });
        await send([{ event: 'Phone Event', userId: 'phone-1', properties: { a: 1 } }]);
        await rows(p.page).first().waitFor({ timeout: 10_000 });
        await p.page.getByRole('button', { name: /JSON of track Phone Event/ }).click();
        await p.page.locator('pre.json').waitFor();
      }
      if (hash === 'explorer') {
        await rows(p.page).first().waitFor();
        await p.page.getByRole('button', { name: /JSON of track/ }).first().click();
        await p.page.locator('pre.json').waitFor();
      }
      if (hash === 'insights') {
        await p.page.locator('.chart canvas').first().waitFor();
        await p.page.getByRole('button', { name: 'Run funnel' }).waitFor();
      }
      await fitsPhone(p.page);
      await p.expectAccessible();
      expect(p.problems).toEqual([]);
      await p.page.close();
    }
  });
});
