import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REDIS_URL, testDatabaseUrl, uniqueName } from '../support/env';
import { withDb } from '../support/app';
import { deleteRedisPrefix } from '../support/redis';

/** `npm run cli -- <verb>` as an operator runs it: the built dist/cli.js, no HTTP API. */
describe('operator CLI', () => {
  const prefix = uniqueName('cli');
  afterAll(() => deleteRedisPrefix(prefix));

  // RETENTION_DAYS at its maximum: a retention pass here must not touch other tests' rows.
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [join(__dirname, '..', '..', 'dist', 'cli.js'), ...args], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: testDatabaseUrl(), REDIS_URL, QUEUE_PREFIX: prefix, NODE_ENV: 'production', RETENTION_DAYS: '36500' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: r.status, out: r.stdout, err: r.stderr, json: () => JSON.parse(r.stdout) };
  };

  it('creates, lists, rotates and revokes keys and manages sources, all audited as cli', () => {
    const admin = cli('keys:create', '--kind', 'admin', '--name', 'ops');
    expect(admin.code).toBe(0);
    expect(admin.json()).toMatchObject({ kind: 'admin', name: 'ops', key: expect.stringMatching(/^sk_admin_/) });

    const source = cli('sources:create', 'from-cli');
    expect(source.code).toBe(0);
    const { id: sourceId, writeKey } = source.json();
    expect(writeKey).toMatch(/^sk_write_/);
    expect(cli('sources:list').json().some((s: { id: string }) => s.id === sourceId)).toBe(true);

    const reader = cli('keys:create', '--kind', 'read', '--sources', sourceId).json();
    expect(reader.sourceIds).toEqual([sourceId]);
    const listed = cli('keys:list', '--kind', 'read', '--source', sourceId).json();
    expect(listed.map((k: { id: string }) => k.id)).toEqual([reader.id]);
    expect(JSON.stringify(listed)).not.toContain(reader.key);

    const rotated = cli('keys:rotate', reader.id, '--overlap', '60');
    expect(rotated.code).toBe(0);
    expect(rotated.json()).toMatchObject({ rotatedFrom: reader.id, kind: 'read' });
    const revoked = cli('keys:revoke', reader.id);
    expect(revoked.json().revokedAt).not.toBeNull();
    expect(cli('sources:delete', sourceId).json()).toEqual({ deleted: sourceId });

    return withDb(async (db) => {
      const rows = (await db.query("SELECT action FROM audit_log WHERE actor_type = 'cli' AND target_id IN ($1, $2) ORDER BY id", [sourceId, reader.id])).rows;
      expect(rows.map((r: { action: string }) => r.action)).toEqual(['source.create', 'key.create', 'key.rotate', 'key.revoke', 'source.delete']);
    });
  });

  it('rollups:rebuild recounts the rollups of a range from the stored events', async () => {
    const sourceId = cli('sources:create', 'rollups-cli').json().id;
    await withDb(async (db) => {
      await db.query(`SELECT sluice_ensure_event_partition('2026-10-02'::date)`);
      await db.query(
        `INSERT INTO events (source_id, message_id, type, event, user_id, "timestamp", received_at)
         SELECT $1, 'r' || i, 'track', 'Rebuilt', 'u' || (i % 3), '2026-10-02T10:00:00Z'::timestamptz + i * interval '1 minute', now() FROM generate_series(1, 90) AS i`,
        [sourceId],
      );
    });
    const r = cli('rollups:rebuild', '--from', '2026-10-02T00:00:00Z', '--to', '2026-10-03T00:00:00Z', '--source', sourceId);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ hours: 24, days: 1 });
    await withDb(async (db) => {
      const counts = (await db.query(`SELECT hour, n::int AS n FROM event_counts_hourly WHERE source_id = $1 ORDER BY hour`, [sourceId])).rows;
      expect(counts.map((c: { n: number }) => c.n)).toEqual([59, 31]); // 10:01-10:59, 11:00-11:30
      const [{ users }] = (await db.query(`SELECT users::int AS users FROM event_uniques_daily WHERE source_id = $1`, [sourceId])).rows;
      expect(users).toBe(3);
    });
    expect(cli('rollups:rebuild', '--from', 'yesterday', '--to', '2026-10-03T00:00:00Z').code).toBe(2);
  });

  it('lists, shows, replays and discards dead letters', async () => {
    const sourceId = cli('sources:create', 'dead-letters-cli').json().id;
    const payload = (m: string, e: object) => JSON.stringify({ s: sourceId, t: new Date().toISOString(), r: 'req-cli', e: { messageId: m, ...e } });
    const ids = await withDb(async (db) =>
      (
        await db.query(
          `INSERT INTO dead_letters (source_id, message_id, reason, reason_code, payload_text) VALUES ($1, 'cli-ok', 'test', 'worker_crash', $2), ($1, 'cli-gone', 'test', 'worker_crash', $3) RETURNING id::text AS id`,
          [sourceId, payload('cli-ok', { type: 'track', event: 'Cli', userId: 'u' }), payload('cli-gone', { type: 'track', event: 'Gone', userId: 'u' })],
        )
      ).rows.map((r: { id: string }) => r.id),
    );
    expect(cli('dead-letters:list', '--source', sourceId).json().map((d: { id: string }) => d.id).sort()).toEqual([...ids].sort());
    expect(cli('dead-letters:show', ids[0]).json().payload).toContain('"cli-ok"');
    expect(cli('dead-letters:replay', ids[0]).json()).toEqual({ replayed: [ids[0]], rejected: [], skipped: [] });
    expect(cli('dead-letters:discard', ids[1]).json().status).toBe('discarded');
    expect(cli('dead-letters:list', '--source', sourceId, '--status', 'pending').json()).toEqual([]);
    expect(cli('dead-letters:show', 'x').code).toBe(2);
    const queued = await withDb(async (db) => (await db.query(`SELECT action FROM audit_log WHERE actor_type = 'cli' AND target_id = ANY($1) ORDER BY id`, [ids])).rows.map((r: { action: string }) => r.action));
    expect(queued).toEqual(['dead_letter.replay', 'dead_letter.discard']);
  });

  it('suppresses, lists and lifts', () => {
    const created = cli('privacy:suppress', '--user', 'cli-suppressed');
    expect(created.code).toBe(0);
    const { id } = created.json();
    expect(cli('privacy:suppressions').json().map((s: { id: string }) => s.id)).toContain(id);
    expect(cli('privacy:lift', id).json().lifted_at).not.toBeNull();
    expect(cli('privacy:suppressions').json().map((s: { id: string }) => s.id)).not.toContain(id);
    expect(cli('privacy:suppress', '--user', 'a', '--anonymous', 'b').code).toBe(2);
  });

  it('exports a person as NDJSON on stdout', async () => {
    const sourceId = cli('sources:create', 'export-cli').json().id;
    await withDb((db) =>
      db.query(
        `INSERT INTO events (source_id, message_id, type, event, user_id, "timestamp", received_at) SELECT $1, 'x' || i, 'track', 'E', 'cli-export', now() - i * interval '1 minute', now() FROM generate_series(1, 3) AS i`,
        [sourceId],
      ),
    );
    const r = cli('privacy:export', '--user', 'cli-export', '--sources', sourceId);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0].export).toMatchObject({ userId: 'cli-export', linkedAnonymousIds: [] });
    expect(lines.slice(1, -1).map((e: { messageId: string }) => e.messageId)).toEqual(['x3', 'x2', 'x1']);
    expect(lines[lines.length - 1]).toEqual({ end: { events: 3 } });
  });

  it('queues a deletion (with suppression) and shows it; a worker carries it out', () => {
    const sourceId = cli('sources:create', 'delete-cli').json().id;
    const r = cli('privacy:delete', '--user', 'cli-delete', '--sources', sourceId, '--suppress');
    expect(r.code).toBe(0);
    const created = r.json();
    expect(created).toMatchObject({ status: 'pending', sourceIds: [sourceId], identity: { kind: 'userId' } });
    expect(created.suppressionId).toEqual(expect.any(String));
    expect(JSON.stringify(created)).not.toContain('cli-delete');
    expect(cli('privacy:deletion', created.id).json()).toMatchObject({ id: created.id });
    expect(cli('privacy:deletions').json().map((d: { id: string }) => d.id)).toContain(created.id);
    expect(cli('privacy:suppressions').json().map((s: { id: string }) => s.id)).toContain(created.suppressionId);
    expect(cli('privacy:delete', '--user', 'a', '--anonymous', 'b').code).toBe(2);
    expect(cli('privacy:deletion', 'not-a-uuid').code).toBe(2);
  });

  it('sets a source\'s retention, runs a retention pass now and shows the last run', () => {
    const sourceId = cli('sources:create', 'retention-cli').json().id;
    expect(cli('sources:retention', sourceId, '30').json().retention).toEqual({ retentionDays: 30, effectiveDays: 30 });
    expect(cli('sources:retention', sourceId, 'none').json().retention).toEqual({ retentionDays: null, effectiveDays: 36500 });
    expect(cli('sources:retention', sourceId, '0').code).toBe(2);
    expect(cli('sources:retention', sourceId, '40000').code).toBe(2);
    const run = cli('retention:run');
    expect(run.code).toBe(0);
    expect(run.json()).toMatchObject({ partitionsDropped: [], removed: { events: 0 }, cutoff: expect.stringMatching(/T00:00:00.000Z$/) });
    expect(cli('retention:status').json()).toMatchObject({ name: 'retention', outcome: 'ok', result: { cutoff: run.json().cutoff } });
  });

  it('creates, versions, imports, attaches and detaches tracking plans', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
    try {
      const rules = join(dir, 'rules.json');
      writeFileSync(rules, JSON.stringify({ allowUnplanned: false, rules: [{ type: 'track', event: 'Signed Up', properties: { type: 'object', required: ['plan'] } }] }));
      const plan = cli('plans:create', 'cli plan', '--file', rules);
      expect(plan.code).toBe(0);
      const planId = plan.json().id;
      expect(cli('plans:version', planId, '--file', rules).json()).toMatchObject({ version: 2 });
      const sourceId = cli('sources:create', 'plans-cli').json().id;
      expect(cli('plans:attach', sourceId, planId, '--version', '1', '--unplanned', 'drop', '--violation', 'quarantine').json()).toMatchObject({ planId, version: 1, onUnplanned: 'drop', onViolation: 'quarantine' });
      expect(cli('plans:show', planId).json()).toMatchObject({ latestVersion: 2, sources: [sourceId] });
      expect(cli('plans:attach', sourceId, planId, '--unplanned', 'shout').code).toBe(2);
      expect(cli('plans:detach', sourceId).code).toBe(0);
      const segment = join(dir, 'segment.json');
      writeFileSync(segment, JSON.stringify({ data: { rules: [{ type: 'TRACK', key: 'A', version: 1, jsonSchema: { type: 'object', properties: { properties: { type: 'object', required: ['x'] } } } }] } }));
      expect(cli('plans:import', '--format', 'segment', '--file', segment, '--name', 'from segment').json()).toMatchObject({ name: 'from segment', latestVersion: 1 });
      writeFileSync(rules, '{not json');
      expect(cli('plans:create', 'broken', '--file', rules).code).toBe(2);
      writeFileSync(rules, JSON.stringify({ rules: [{ type: 'track' }] }));
      const invalid = cli('plans:create', 'invalid', '--file', rules);
      expect(invalid.code).toBe(1);
      expect(invalid.err).toMatch(/needs "event"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('explains bad usage with exit code 2 and failures with exit code 1', () => {
    const none = cli();
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/Usage: npm run cli/);
    expect(cli('keys:create').code).toBe(2);
    expect(cli('keys:create', '--kind', 'root').code).toBe(2);
    expect(cli('frobnicate').code).toBe(2);
    const missing = cli('keys:revoke', '00000000-0000-4000-8000-000000000000');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/No key with id/);
  });
});
