import { DeadLettersRepository } from '../../src/processing/dead-letters.repository';
import { QueuedEvent } from '../../src/queue/queue.constants';
import { createSource, startApp, TestApp, waitFor, withDb } from '../support/app';
import { waitForDrain } from '../support/drain';

// Dead letters as an operator meets them: written by the worker's own repository (as when it
// isolates a poison event), then listed, fixed, replayed back through ingestion, and stored once.
describe('dead letters: fix, replay, discard', () => {
  let t: TestApp;
  let source: { id: string; writeKey: string };
  const admin = () => ({ Authorization: `Bearer ${t.adminKey}` });
  const receivedAt = new Date(Date.now() - 3_600_000).toISOString();

  const letter = (messageId: string, e: Record<string, unknown>): QueuedEvent => ({ s: source.id, t: receivedAt, r: `req-${messageId}`, e: { messageId, ...e } as QueuedEvent['e'] });
  async function deadLetter(events: QueuedEvent[], reason = 'PostgreSQL refused the event: invalid input syntax'): Promise<void> {
    await t.app.get(DeadLettersRepository).insert(events.map((event) => ({ event, code: 'rejected_by_postgres', reason })), 'job-1', 1);
  }
  const idOf = async (messageId: string) =>
    withDb(async (db) => (await db.query('SELECT id::text AS id FROM dead_letters WHERE source_id = $1 AND message_id = $2', [source.id, messageId])).rows[0].id as string);
  const idOf2 = async (sourceId: string, messageId: string) =>
    withDb(async (db) => (await db.query('SELECT id::text AS id FROM dead_letters WHERE source_id = $1 AND message_id = $2', [sourceId, messageId])).rows[0].id as string);
  const stored = (messageId: string) =>
    withDb(async (db) => Number((await db.query('SELECT count(*) AS n FROM events WHERE source_id = $1 AND message_id = $2', [source.id, messageId])).rows[0].n));

  beforeAll(async () => {
    t = await startApp({ API_RATE_LIMIT_RPS: '0' });
    source = await createSource(t);
  });
  afterAll(() => t.close());

  it('poison → dead letter → fix → replay → stored once; a second replay stores nothing more', async () => {
    // The event as it was refused: a name PostgreSQL could not take, say (any event will do).
    await deadLetter([letter('dl-fix', { type: 'track', event: 'Broken', userId: 'u-1', properties: { price: 'NaN' } })]);
    const id = await idOf('dl-fix');

    const list = await t.http.get(`/v1/admin/dead-letters?sourceId=${source.id}&reason=rejected_by_postgres&q=Broken`).set(admin());
    expect(list.status).toBe(200);
    expect(list.body.items.map((i: { id: string }) => i.id)).toEqual([id]);
    const one = await t.http.get(`/v1/admin/dead-letters/${id}`).set(admin());
    expect(one.body).toMatchObject({ id, status: 'pending', reasonCode: 'rejected_by_postgres', messageId: 'dl-fix' });
    const original = await withDb(async (db) => (await db.query('SELECT payload_text FROM dead_letters WHERE id = $1', [id])).rows[0].payload_text);
    expect(one.body.payload).toBe(original); // byte for byte

    // A fix is checked exactly as ingestion checks an event.
    const bad = await t.http.put(`/v1/admin/dead-letters/${id}/event`).set(admin()).send({ event: { type: 'track', event: 'Fixed' } });
    expect(bad.status).toBe(400);
    expect(bad.body.reason).toBe('missing_identity');
    const fixed = await t.http.put(`/v1/admin/dead-letters/${id}/event`).set(admin()).send({ event: { type: 'track', event: 'Fixed', userId: 'u-1', properties: { price: 9.5 } } });
    expect(fixed.status).toBe(200);
    expect(JSON.parse(fixed.body.payload)).toMatchObject({ s: source.id, t: receivedAt, e: { event: 'Fixed', messageId: 'dl-fix' } });

    const replay = await t.http.post(`/v1/admin/dead-letters/${id}/replay`).set(admin());
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({ replayed: [id], rejected: [], skipped: [] });
    await waitForDrain(t.config.redis.prefix);
    expect(await stored('dl-fix')).toBe(1);
    const row = await withDb(async (db) => (await db.query(`SELECT event, properties, received_at FROM events WHERE source_id = $1 AND message_id = 'dl-fix'`, [source.id])).rows[0]);
    expect(row).toMatchObject({ event: 'Fixed', properties: { price: 9.5 } });
    expect(row.received_at.toISOString()).toBe(receivedAt); // stored as received, not as replayed

    const again = await t.http.post(`/v1/admin/dead-letters/replay`).set(admin()).send({ ids: [id] });
    expect(again.body).toEqual({ replayed: [], rejected: [], skipped: [id] });
    expect((await t.http.get(`/v1/admin/dead-letters/${id}`).set(admin())).body.status).toBe('replayed');

    const audit = await withDb(async (db) => (await db.query(`SELECT action FROM audit_log WHERE target_type = 'dead_letter' AND target_id = $1 ORDER BY id`, [id])).rows.map((r: { action: string }) => r.action));
    expect(audit).toEqual(['dead_letter.fix', 'dead_letter.replay', 'dead_letter.replay']);
  });

  it('an event already stored is not stored twice by its replay', async () => {
    const res = await t.http.post('/v1/track').set('Authorization', `Basic ${Buffer.from(`${source.writeKey}:`).toString('base64')}`).send({ userId: 'u-2', event: 'Twice', messageId: 'dl-dup' });
    expect(res.status).toBe(200);
    await waitForDrain(t.config.redis.prefix);
    await deadLetter([letter('dl-dup', { type: 'track', event: 'Twice', userId: 'u-2' })], 'worker crashed');
    const id = await idOf('dl-dup');
    expect((await t.http.post(`/v1/admin/dead-letters/${id}/replay`).set(admin())).body.replayed).toEqual([id]);
    await waitForDrain(t.config.redis.prefix);
    expect(await stored('dl-dup')).toBe(1);
  });

  it('a replay refused again stays pending with the reason; a discarded letter is never replayed', async () => {
    await deadLetter([letter('dl-still-bad', { type: 'track', userId: 'u-3' }), letter('dl-discard', { type: 'track', event: 'Unwanted', userId: 'u-3' })]);
    const [bad, unwanted] = [await idOf('dl-still-bad'), await idOf('dl-discard')];
    const replay = await t.http.post('/v1/admin/dead-letters/replay').set(admin()).send({ ids: [bad] });
    expect(replay.body.rejected).toEqual([{ id: bad, reason: 'missing_event', message: expect.any(String) }]);
    expect((await t.http.get(`/v1/admin/dead-letters/${bad}`).set(admin())).body.status).toBe('pending');

    const discarded = await t.http.post(`/v1/admin/dead-letters/${unwanted}/discard`).set(admin());
    expect(discarded.body.status).toBe('discarded');
    expect((await t.http.post(`/v1/admin/dead-letters/${unwanted}/replay`).set(admin())).body.skipped).toEqual([unwanted]);
    expect((await t.http.put(`/v1/admin/dead-letters/${unwanted}/event`).set(admin()).send({ event: { type: 'track', event: 'x', userId: 'u' } })).status).toBe(409);
    await waitForDrain(t.config.redis.prefix);
    expect(await stored('dl-discard')).toBe(0);
    const metrics = (await t.http.get('/metrics')).text;
    expect(metrics).toMatch(/sluice_dead_letter_discards_total 1/);
    expect(metrics).toMatch(/sluice_dead_letter_replays_total\{outcome="rejected"\} 1/);
  });

  it('replays everything matching a filter in the background, with progress; running it again replays nothing twice', async () => {
    const other = await createSource(t);
    const many = Array.from({ length: 1200 }, (_, i) => ({ ...letter(`bulk-${i}`, { type: 'track', event: 'Bulk', userId: `u-${i % 7}` }), s: other.id }));
    for (let i = 0; i < many.length; i += 400) await deadLetter(many.slice(i, i + 400));
    const started = await t.http.post('/v1/admin/dead-letter-replays').set(admin()).send({ sourceId: other.id });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ status: 'running', matched: 1200 });
    const done = await waitFor(async () => (await t.http.get(`/v1/admin/dead-letter-replays/${started.body.id}`).set(admin())).body, (r) => r.status !== 'running', 60_000);
    const statuses = await withDb(async (db) => (await db.query('SELECT status, count(*)::int AS n FROM dead_letters WHERE source_id = $1 GROUP BY 1', [other.id])).rows);
    expect({ ...done, statuses }).toMatchObject({ status: 'done', matched: 1200, replayed: 1200, rejected: 0, statuses: [{ status: 'replayed', n: 1200 }] });
    await waitForDrain(t.config.redis.prefix);
    const n = await withDb(async (db) => Number((await db.query('SELECT count(DISTINCT message_id) AS n FROM events WHERE source_id = $1', [other.id])).rows[0].n));
    expect(n).toBe(1200);
    const rerun = await t.http.post('/v1/admin/dead-letter-replays').set(admin()).send({ sourceId: other.id });
    expect(rerun.body.matched).toBe(0);
  });

  it('discards in bulk by filter: only the matching pending letters, in one audited statement; an empty filter is refused', async () => {
    const other = await createSource(t);
    const mk = (id: string, e: Record<string, unknown>, s = other.id) => ({ ...letter(id, { type: 'track', userId: 'u-b', ...e }), s });
    await deadLetter([mk('bd-match-1', { event: 'Noise' }), mk('bd-match-2', { event: 'Noise' }), mk('bd-keep-text', { event: 'Signal' }), mk('bd-replayed', { event: 'Noise' }), mk('bd-other-src', { event: 'Noise' }, source.id)]);
    await t.app.get(DeadLettersRepository).insert([{ event: mk('bd-keep-reason', { event: 'Noise' }), code: 'worker_crash', reason: 'worker crashed' }], 'job-2', 1);
    const replayed = await idOf2(other.id, 'bd-replayed');
    await withDb((db) => db.query(`UPDATE dead_letters SET status = 'replayed' WHERE id = $1`, [replayed]));

    const empty = await t.http.post('/v1/admin/dead-letters/discard').set(admin()).send({});
    expect(empty.status).toBe(400);
    expect(empty.body).toMatchObject({ reason: 'empty_filter', message: expect.stringMatching(/empty filter would discard every pending/) });
    expect((await t.http.post('/v1/admin/dead-letters/discard').set(admin()).send({ ids: [] })).status).toBe(400);
    expect((await t.http.post('/v1/admin/dead-letters/discard').set(admin()).send({ reason: 'bogus' })).status).toBe(400);

    const res = await t.http.post('/v1/admin/dead-letters/discard').set(admin()).send({ sourceId: other.id, reason: 'rejected_by_postgres', q: 'Noise' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ discarded: 2 });
    const statuses = await withDb(async (db) =>
      Object.fromEntries((await db.query(`SELECT message_id, status FROM dead_letters WHERE message_id LIKE 'bd-%' ORDER BY 1`)).rows.map((r: { message_id: string; status: string }) => [r.message_id, r.status])),
    );
    expect(statuses).toEqual({ 'bd-keep-reason': 'pending', 'bd-keep-text': 'pending', 'bd-match-1': 'discarded', 'bd-match-2': 'discarded', 'bd-other-src': 'pending', 'bd-replayed': 'replayed' });
    const audit = await withDb(async (db) => (await db.query(`SELECT change FROM audit_log WHERE action = 'dead_letter.discard' AND target_id IS NULL ORDER BY id DESC LIMIT 1`)).rows[0].change);
    expect(audit).toMatchObject({ filter: { sourceId: other.id, reason: 'rejected_by_postgres', text: 'Noise', status: 'pending' }, discarded: 2, discardedIds: [await idOf2(other.id, 'bd-match-1'), await idOf2(other.id, 'bd-match-2')] });

    // By ids: only the pending ones among them; running it again discards nothing.
    const keep = await idOf2(other.id, 'bd-keep-text');
    const byIds = await t.http.post('/v1/admin/dead-letters/discard').set(admin()).send({ ids: [keep, replayed, keep] });
    expect(byIds.body).toEqual({ discarded: 1 });
    expect((await t.http.post('/v1/admin/dead-letters/discard').set(admin()).send({ ids: [keep] })).body).toEqual({ discarded: 0 });
    expect((await t.http.get(`/v1/admin/dead-letters/${replayed}`).set(admin())).body.status).toBe('replayed');
  });

  it('refuses bad ids and filters with a 400 naming them', async () => {
    expect((await t.http.get('/v1/admin/dead-letters/abc').set(admin())).status).toBe(400);
    expect((await t.http.get('/v1/admin/dead-letters/99999999999999999999').set(admin())).status).toBe(400);
    expect((await t.http.get('/v1/admin/dead-letters?reason=bogus').set(admin())).status).toBe(400);
    expect((await t.http.get('/v1/admin/dead-letters?q=%00').set(admin())).status).toBe(400);
    expect((await t.http.post('/v1/admin/dead-letters/replay').set(admin()).send({ ids: [] })).status).toBe(400);
  });
});
