import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { DeadLettersRepository } from '../../src/processing/dead-letters.repository';
import { QueuedEvent } from '../../src/queue/queue.constants';
import { createSource, startApp, TestApp, waitFor, withDb } from '../support/app';
import { consoleBrowser, ConsoleBrowser, ConsolePage } from '../support/console';
import { waitForDrain } from '../support/drain';
import { uniqueName } from '../support/env';
import { baseUrl } from '../support/sse';

/**
 * The operator pages of the console in Chromium, with an admin key pasted as a user would:
 * dead letters (find, fix with the API's refusal shown, replay, discard, bulk discard by filter),
 * privacy (a deletion watched to its verification record, a suppression lifted, an export
 * downloaded) and tracking plans (an invalid plan refused in the API's words, a plan attached in
 * quarantine mode, the violations report, the quarantine queue). Checked in PostgreSQL.
 */
describe('console: dead letters, privacy, tracking plans', () => {
  let t: TestApp;
  let url: string;
  let browser: ConsoleBrowser;
  let source: { id: string; writeKey: string };
  const sourceName = uniqueName('ops');
  const receivedAt = new Date(Date.now() - 3_600_000).toISOString();
  const write = () => `Basic ${Buffer.from(`${source.writeKey}:`).toString('base64')}`;

  const letter = (messageId: string, e: Record<string, unknown>): QueuedEvent => ({ s: source.id, t: receivedAt, r: `req-${messageId}`, e: { messageId, type: 'track', userId: 'u-ops', ...e } as QueuedEvent['e'] });
  const deadLetter = (events: QueuedEvent[]) => t.app.get(DeadLettersRepository).insert(events.map((event) => ({ event, code: 'rejected_by_postgres', reason: 'PostgreSQL refused the event: invalid input syntax' })), 'job-ops', 1);
  const letterOf = async (messageId: string) =>
    withDb(async (db) => (await db.query('SELECT id::text AS id, status FROM dead_letters WHERE source_id = $1 AND message_id = $2', [source.id, messageId])).rows[0] as { id: string; status: string });
  const stored = (messageId: string) => withDb(async (db) => Number((await db.query('SELECT count(*) AS n FROM events WHERE source_id = $1 AND message_id = $2', [source.id, messageId])).rows[0].n));
  const confirm = (page: Page, label: string) => page.getByRole('dialog').getByRole('button', { name: label, exact: true }).click();
  const noOverflow = (p: ConsolePage) => p.expectFitsWidth();

  beforeAll(async () => {
    t = await startApp({ API_RATE_LIMIT_RPS: '0' });
    url = await baseUrl(t.app);
    browser = await consoleBrowser(url);
    source = await createSource(t, sourceName);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('dead letters: finds a poison event, refuses an invalid fix in the API words, replays the fixed one once, discards one and in bulk by filter', async () => {
    await deadLetter([
      letter('ops-fix', { event: 'Broken', properties: { price: 'NaN' } }),
      letter('ops-discard-one', { event: 'Unwanted' }),
      letter('ops-bulk-1', { event: 'Noise' }),
      letter('ops-bulk-2', { event: 'Noise' }),
      letter('ops-keep', { event: 'Signal' }),
      letter('ops-bg', { event: 'Background' }),
    ]);
    const fix = await letterOf('ops-fix');
    const p = await browser.open();
    await p.signIn(t.adminKey);
    await p.goTo('Dead letters');
    const filters = p.page.getByRole('form', { name: 'Filter dead letters' });
    await filters.getByLabel('Source').selectOption(source.id);
    await filters.getByRole('button', { name: 'Apply' }).click();
    await p.page.getByRole('link', { name: `Open dead letter ${fix.id}` }).waitFor();
    // (the unfiltered list may hold the letter too: wait for the filtered answer's summary first)
    await p.page.getByText('Counted over the 6 row(s) loaded below').waitFor();
    expect(await p.page.getByRole('link', { name: /^Open dead letter/ }).count()).toBe(6);
    await p.expectAccessible();
    await p.screenshot('dead-letters');

    // Text filter, then open it: the original payload, byte for byte.
    await filters.getByLabel('Payload contains').fill('Broken');
    await filters.getByRole('button', { name: 'Apply' }).click();
    await waitFor(() => p.page.getByRole('link', { name: /^Open dead letter/ }).count(), (n) => n === 1, 10_000);
    await p.page.getByRole('link', { name: `Open dead letter ${fix.id}` }).click();
    await p.page.getByRole('heading', { name: `Dead letter #${fix.id}` }).waitFor();
    const original = await withDb(async (db) => (await db.query('SELECT payload_text FROM dead_letters WHERE id = $1', [fix.id])).rows[0].payload_text as string);
    expect(await p.page.getByLabel('Original payload').textContent()).toBe(original);

    // An invalid fix: the API's own message; then a valid one.
    const textarea = p.page.getByLabel('Event JSON');
    expect(JSON.parse(await textarea.inputValue())).toMatchObject({ event: 'Broken', messageId: 'ops-fix' });
    await textarea.fill(JSON.stringify({ type: 'track', event: 'Fixed' }));
    await p.page.getByRole('button', { name: 'Save fix' }).click();
    await p.page.getByRole('alert').filter({ hasText: /The fixed event is not valid: .*\(HTTP 400\)/ }).waitFor();
    await p.expectAccessible();
    await p.screenshot('dead-letter-fix');
    await textarea.fill(JSON.stringify({ type: 'track', event: 'Fixed', userId: 'u-ops', properties: { price: 9.5 } }, null, 2));
    await p.page.getByRole('button', { name: 'Save fix' }).click();
    await p.page.getByRole('status').filter({ hasText: 'Fix saved' }).waitFor();
    await p.page.getByRole('button', { name: 'Replay', exact: true }).click();
    await p.page.getByRole('status').filter({ hasText: 'Replayed 1' }).waitFor();
    await p.page.locator('.ops-meta').getByText('replayed', { exact: true }).waitFor();
    await waitForDrain(t.config.redis.prefix);
    expect(await stored('ops-fix')).toBe(1);
    expect((await letterOf('ops-fix')).status).toBe('replayed');
    expect(await withDb(async (db) => (await db.query(`SELECT event, properties FROM events WHERE source_id = $1 AND message_id = 'ops-fix'`, [source.id])).rows[0])).toMatchObject({ event: 'Fixed', properties: { price: 9.5 } });

    // Discard one from its page.
    const one = await letterOf('ops-discard-one');
    await p.page.goto(`${url}/console/#/dead-letters/${one.id}`);
    await p.page.getByRole('heading', { name: `Dead letter #${one.id}` }).waitFor();
    await p.page.getByRole('button', { name: 'Discard', exact: true }).click();
    await confirm(p.page, 'Discard');
    await p.page.getByRole('status').filter({ hasText: 'Discarded' }).waitFor();
    expect((await letterOf('ops-discard-one')).status).toBe('discarded');

    // Bulk discard by filter: only the pending "Noise" letters of this source.
    await p.page.getByRole('link', { name: '← All dead letters' }).click();
    await filters.getByLabel('Source').selectOption(source.id);
    await filters.getByLabel('Payload contains').fill('Noise');
    await filters.getByRole('button', { name: 'Apply' }).click();
    await waitFor(() => p.page.getByRole('link', { name: /^Open dead letter/ }).count(), (n) => n === 2, 10_000);
    await p.page.getByRole('button', { name: 'Discard all matching' }).click();
    await confirm(p.page, 'Discard all');
    await p.page.getByRole('status').filter({ hasText: 'Discarded 2 pending dead letter(s) matching the filter.' }).waitFor();
    await p.page.getByText('No dead letter matches this filter.').waitFor();
    expect([(await letterOf('ops-bulk-1')).status, (await letterOf('ops-bulk-2')).status, (await letterOf('ops-keep')).status]).toEqual(['discarded', 'discarded', 'pending']);

    // Replay everything matching in the background, with its progress polled to the end.
    await filters.getByLabel('Payload contains').fill('Background');
    await filters.getByRole('button', { name: 'Apply' }).click();
    await waitFor(() => p.page.getByRole('link', { name: /^Open dead letter/ }).count(), (n) => n === 1, 10_000);
    await p.page.getByRole('button', { name: 'Replay all matching' }).click();
    await confirm(p.page, 'Replay all');
    await p.page.getByRole('status').filter({ hasText: /Background replay #\d+ \(done\): 1 replayed, 0 refused again, of 1 matching/ }).waitFor();
    expect((await letterOf('ops-bg')).status).toBe('replayed');

    // Select and replay: the one left.
    await filters.getByLabel('Payload contains').fill('');
    await filters.getByRole('button', { name: 'Apply' }).click();
    const keep = await letterOf('ops-keep');
    await p.page.getByRole('checkbox', { name: `Select dead letter ${keep.id}` }).check();
    await p.page.getByRole('button', { name: 'Replay selected (1)' }).click();
    await p.page.getByRole('status').filter({ hasText: 'Replayed 1' }).waitFor();
    expect((await letterOf('ops-keep')).status).toBe('replayed');
    expect(p.problems).toEqual([]);
    await p.page.close();
  });

  it('privacy: exports a person, deletes them with a verification record, suppresses and lifts', async () => {
    const person = `ops-person-${Date.now()}`;
    const batch = [
      ...[1, 2, 3].map((i) => ({ type: 'track', event: 'Viewed', userId: person, messageId: `${person}-${i}` })),
      { type: 'track', event: 'Viewed', userId: 'someone-else', messageId: `${person}-other` },
    ];
    const sent = await t.http.post('/v1/batch').set('Authorization', write()).send({ batch });
    expect(sent.status).toBe(200);
    await waitForDrain(t.config.redis.prefix);
    const p = await browser.open();
    await p.signIn(t.adminKey);
    await p.goTo('Privacy');
    await p.expectAccessible();

    // Export: a download through fetch with the key in a header.
    const exp = p.page.getByRole('form', { name: "Export a person's data" });
    await exp.getByLabel('User id').fill(person);
    const [download] = await Promise.all([p.page.waitForEvent('download'), exp.getByRole('button', { name: 'Download export' }).click()]);
    expect(download.url()).not.toContain(t.adminKey);
    const lines = readFileSync((await download.path())!, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const events = lines.filter((l) => l.messageId ?? l.message_id);
    expect(events.map((e) => e.messageId ?? e.message_id).sort()).toEqual([`${person}-1`, `${person}-2`, `${person}-3`]);
    expect(lines[lines.length - 1]).toEqual({ end: { events: 3 } });
    await exp.getByRole('status').filter({ hasText: 'Downloaded' }).waitFor();

    // Suppress and lift.
    const sup = p.page.getByRole('form', { name: 'Suppress a person' });
    await sup.getByLabel('User id').fill(`${person}-sup`);
    await sup.getByRole('button', { name: 'Suppress' }).click();
    const row = p.page.getByRole('row').filter({ hasText: `userId ${person}-sup` });
    await row.waitFor();
    await row.getByRole('button', { name: 'Lift' }).click();
    await confirm(p.page, 'Lift');
    await p.page.getByRole('status').filter({ hasText: `Lifted the suppression of userId "${person}-sup"` }).waitFor();
    await row.waitFor({ state: 'detached' });
    await p.page.getByLabel('Show lifted suppressions too').check();
    await row.waitFor();
    expect(await withDb(async (db) => (await db.query('SELECT lifted_at FROM suppressions WHERE user_id = $1', [`${person}-sup`])).rows[0].lifted_at)).not.toBeNull();

    // Delete: the request is followed to its verification record.
    const form = p.page.getByRole('group', { name: "Delete a person's data" });
    await form.getByLabel('User id').fill(person);
    await form.getByRole('button', { name: 'Request deletion' }).click();
    await confirm(p.page, 'Delete their data');
    await p.page.getByRole('heading', { name: 'Verification record' }).waitFor({ timeout: 30_000 });
    await p.page.getByText('Verified: nothing remains').waitFor();
    const removedEvents = p.page.getByRole('row').filter({ hasText: 'events' }).filter({ hasText: 'Events' }).last();
    expect((await removedEvents.getByRole('cell').allTextContents()).slice(1)).toEqual(['3', '0']);
    await p.expectAccessible();
    await p.screenshot('privacy');
    expect(await withDb(async (db) => Number((await db.query('SELECT count(*) AS n FROM events WHERE source_id = $1 AND user_id = $2', [source.id, person])).rows[0].n))).toBe(0);
    expect(await withDb(async (db) => Number((await db.query(`SELECT count(*) AS n FROM events WHERE source_id = $1 AND user_id = 'someone-else'`, [source.id])).rows[0].n))).toBe(1);
    await p.page.getByRole('link', { name: '← Privacy' }).click();
    await p.page.getByRole('row').filter({ hasText: 'verified' }).first().waitFor();
    expect(p.problems).toEqual([]);
    await p.page.close();
  });

  it('tracking plans: refuses an invalid plan in the API words; a plan in quarantine mode shows its violations and quarantine queue; a read key sees only the report', async () => {
    const p = await browser.open();
    await p.signIn(t.adminKey);
    await p.goTo('Tracking plans');
    await p.expectAccessible();
    const create = p.page.getByRole('form', { name: 'Create a tracking plan' });
    await create.getByLabel('Plan name').fill('ops broken');
    await create.getByLabel('Rules (JSON)').fill(JSON.stringify({ rules: [{ type: 'track', event: 'X', properties: { type: 'nonsense' } }] }));
    await create.getByRole('button', { name: 'Create plan' }).click();
    const refusal = await create.getByRole('alert').textContent();
    expect(refusal).toContain('rules[0].properties');
    expect(refusal).toContain('(HTTP 400)');
    const api = await t.http.post('/v1/admin/tracking-plans').set('Authorization', `Bearer ${t.adminKey}`).send({ name: 'x', rules: { rules: [{ type: 'track', event: 'X', properties: { type: 'nonsense' } }] } });
    expect(api.body.reason).toBe('invalid_tracking_plan');
    expect(refusal).toBe(`${api.body.message} (HTTP 400)`);

    // Import a Segment Protocols plan, add a version to it, delete it.
    const imp = p.page.getByRole('form', { name: 'Import a tracking plan' });
    await imp.getByLabel('Format').selectOption('segment');
    const segmentDoc = { data: { trackingPlan: { name: 'ops imported' }, rules: [{ type: 'TRACK', key: 'Signed Up', version: 1, jsonSchema: { type: 'object', properties: { properties: { type: 'object', required: ['plan'] } } } }] } };
    await imp.getByLabel('Exported plan (JSON)').fill(JSON.stringify(segmentDoc));
    await imp.getByRole('button', { name: 'Import', exact: true }).click();
    await p.page.getByRole('heading', { name: 'Plan: ops imported' }).waitFor();
    const addVersion = p.page.getByRole('form', { name: 'Add a version' });
    expect(JSON.parse(await addVersion.getByLabel('Rules of the new version (JSON)').inputValue()).rules[0]).toMatchObject({ type: 'track', event: 'Signed Up' });
    await addVersion.getByRole('button', { name: 'Add version' }).click();
    await p.page.getByRole('status').filter({ hasText: 'Version 2 added' }).waitFor();
    await p.page.getByRole('button', { name: 'View rules of v2' }).waitFor();
    await p.page.getByRole('button', { name: 'Delete plan' }).click();
    await confirm(p.page, 'Delete plan');
    await p.page.getByRole('heading', { name: 'Plans', exact: true }).waitFor();
    expect(await p.page.getByRole('link', { name: 'ops imported' }).count()).toBe(0);

    // Infer a draft from the source's stored events (the privacy test stored one of someone else's).
    const infer = p.page.getByRole('form', { name: 'Infer a tracking plan' });
    await infer.getByLabel('Source to infer from').selectOption(source.id);
    await infer.getByRole('button', { name: 'Infer draft' }).click();
    await p.page.getByRole('status').filter({ hasText: /Draft from \d+ event\(s\)/ }).waitFor();
    await p.page.getByRole('button', { name: 'Use as the rules of a new plan' }).click();
    expect(JSON.parse(await create.getByLabel('Rules (JSON)').inputValue())).toHaveProperty('rules');

    const rules = { allowUnplanned: true, rules: [{ type: 'track', event: 'Order Completed', properties: { type: 'object', required: ['revenue'], properties: { revenue: { type: 'number' } } } }] };
    await create.getByLabel('Plan name').fill('ops checkout');
    await create.getByLabel('Rules (JSON)').fill(JSON.stringify(rules, null, 2));
    await create.getByRole('button', { name: 'Create plan' }).click();
    await p.page.getByRole('heading', { name: 'Plan: ops checkout' }).waitFor();
    const view = p.page.getByRole('button', { name: 'View rules of v1' });
    await view.click();
    expect(await p.page.getByRole('button', { name: 'Hide rules of v1' }).getAttribute('aria-expanded')).toBe('true');
    expect(JSON.parse((await p.page.getByLabel('Rules of version 1').textContent())!)).toEqual(rules);

    const attach = p.page.getByRole('form', { name: 'Attach the plan to a source' });
    await attach.getByLabel('Source to attach').selectOption(source.id);
    await attach.getByLabel('Schema violations').selectOption('quarantine');
    await attach.getByRole('button', { name: 'Attach' }).click();
    await p.page.getByRole('status').filter({ hasText: 'follows this plan' }).waitFor();
    await p.page.getByRole('row').filter({ hasText: sourceName }).filter({ hasText: 'quarantine' }).waitFor();
    await p.expectAccessible();

    // A violating event over HTTP: quarantined as a schema_violation dead letter.
    let n = 0;
    const quarantined = await waitFor(
      async () => {
        await t.http.post('/v1/track').set('Authorization', write()).send({ userId: 'u-plan', event: 'Order Completed', properties: { revenue: 'lots' }, messageId: `ops-violation-${n++}` });
        await waitForDrain(t.config.redis.prefix);
        return withDb(async (db) => Number((await db.query(`SELECT count(*) AS n FROM dead_letters WHERE source_id = $1 AND reason_code = 'schema_violation'`, [source.id])).rows[0].n));
      },
      (c) => c > 0,
      15_000,
      300,
    );
    expect(quarantined).toBeGreaterThan(0);

    // The violations report (written by the api every 5 s).
    await p.page.getByRole('link', { name: '← All tracking plans' }).click();
    const report = p.page.getByRole('form', { name: 'Filter the violations report' });
    await report.getByLabel('Source').selectOption(source.id);
    const group = p.page.getByRole('row').filter({ hasText: 'Order Completed' }).filter({ hasText: 'schema_violation' });
    await waitFor(
      async () => {
        await report.getByRole('button', { name: 'Show' }).click();
        return group.count().catch(() => 0);
      },
      (c) => c > 0,
      20_000,
      1000,
    );
    expect(await group.getByRole('cell').nth(4).textContent()).toBe('quarantine');
    await group.getByRole('button', { name: 'Show sample' }).click();
    expect(await group.getByRole('button', { name: 'Hide sample' }).getAttribute('aria-expanded')).toBe('true');
    expect(JSON.parse((await p.page.getByLabel('Sample event').textContent())!)).toMatchObject({ event: 'Order Completed', properties: { revenue: 'lots' } });
    await p.page.getByText(`${sourceName} follows`).waitFor();
    await p.expectAccessible();
    await report.scrollIntoViewIfNeeded();
    await p.screenshot('plans');

    // The quarantine queue, through the link (#/dead-letters?reason=schema_violation).
    await p.page.getByRole('link', { name: 'Quarantine queue' }).click();
    await p.page.getByRole('heading', { level: 1, name: 'Dead letters' }).waitFor();
    expect(p.page.url()).toContain('reason=schema_violation');
    expect(await p.page.getByRole('form', { name: 'Filter dead letters' }).getByLabel('Reason').inputValue()).toBe('schema_violation');
    await p.page.getByRole('link', { name: /^Open dead letter/ }).first().waitFor();
    expect(await p.page.locator('tbody .badge', { hasText: 'schema_violation' }).count()).toBe(await p.page.getByRole('link', { name: /^Open dead letter/ }).count());
    expect(p.problems).toEqual([]);
    await p.page.close();

    // A read key: the report of its source only, no admin action.
    const read = await t.http.post('/v1/admin/keys').set('Authorization', `Bearer ${t.adminKey}`).send({ kind: 'read', sourceIds: [source.id] });
    const r = await browser.open({ width: 390, height: 844 });
    await r.signIn(read.body.key);
    await r.goTo('Tracking plans');
    await r.page.getByRole('heading', { name: 'Violations report' }).waitFor();
    await r.page.getByRole('row').filter({ hasText: 'Order Completed' }).first().waitFor();
    expect(await r.page.getByRole('heading', { name: 'Create a plan' }).count()).toBe(0);
    expect(await r.page.getByRole('link', { name: 'Quarantine queue' }).count()).toBe(0);
    // The dry run: what ingestion would do, nothing stored.
    const dry = r.page.getByRole('form', { name: "Test events against the source's plan" });
    await dry.getByLabel('Events (JSON array, as in /v1/batch)').fill(JSON.stringify([{ type: 'track', event: 'Order Completed', userId: 'u', properties: { revenue: 3 } }, { type: 'track', event: 'Order Completed', userId: 'u', properties: {} }]));
    await dry.getByRole('button', { name: 'Test events' }).click();
    await r.page.getByRole('status').filter({ hasText: ': 1 valid, 1 not.' }).waitFor();
    expect(await r.page.getByRole('table').filter({ hasText: 'What ingestion would do' }).locator('tbody .badge').allTextContents()).toEqual(['valid', 'quarantine']);
    await r.expectAccessible();
    await noOverflow(r);
    expect(r.problems).toEqual([]);
    await r.page.close();
  });

  it('each page is usable and accessible on a 390-px-wide phone', async () => {
    const p = await browser.open({ width: 390, height: 844 });
    await p.signIn(t.adminKey);
    for (const title of ['Dead letters', 'Privacy', 'Tracking plans']) {
      await p.goTo(title);
      await p.page.getByRole('heading', { level: 2 }).first().waitFor();
      await p.page.getByRole('status').filter({ hasText: /Loading/ }).waitFor({ state: 'detached' }).catch(() => undefined);
      await p.expectAccessible();
      await noOverflow(p);
    }
    expect(p.problems).toEqual([]);
    await p.page.close();
  });
});
