import { DataSource } from 'typeorm';
import { ScheduledRunsRepository } from '../../src/lifecycle/scheduled-runs.repository';
import { testDatabaseUrl, uniqueName } from '../support/env';

// The claim that makes a scheduled job run once per interval across workers, on a real
// PostgreSQL: of runners racing on separate connections exactly one wins, a live lease is never
// taken, a failure is retried after its delay, and a dead holder's lease is taken over.
describe('ScheduledRunsRepository (real PostgreSQL)', () => {
  const ds = new DataSource({ type: 'postgres', url: testDatabaseUrl(), poolSize: 8 });
  let runs: ScheduledRunsRepository;
  beforeAll(async () => {
    await ds.initialize();
    runs = new ScheduledRunsRepository(ds);
  });
  afterAll(() => ds.destroy());

  const opts = (runner: string, extra: Partial<{ intervalMs: number; leaseMs: number; retryMs: number; force: boolean }> = {}) => ({ intervalMs: 3_600_000, leaseMs: 60_000, retryMs: 60_000, runner, ...extra });

  it('lets exactly one of many racing workers claim a due run, then none until the interval passes', async () => {
    const job = uniqueName('job');
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => runs.claim(job, opts(`w${i}`))));
    const won = claims.map((c, i) => (c === null ? null : i)).filter((i) => i !== null);
    expect(won).toHaveLength(1);
    expect(claims[won[0]!]).toBe(1);
    expect(await runs.claim(job, opts('late', { force: true }))).toBeNull(); // a live lease is never taken, even by force
    await runs.finish(job, `w${won[0]}`, { ok: true, durationMs: 12, result: { removed: 3 }, error: null });
    expect(await runs.claim(job, opts('next'))).toBeNull(); // succeeded within the interval
    expect(await runs.claim(job, opts('operator', { force: true }))).toBe(2); // an operator's run now
    const row = (await runs.list()).find((r) => r.name === job)!;
    expect(row).toMatchObject({ runner: 'operator', outcome: 'ok', duration_ms: 12, result: { removed: 3 } });
    expect(row.lease_until).not.toBeNull();
  });

  it('retries a failed run only after the retry delay, keeping the last success', async () => {
    const job = uniqueName('job');
    expect(await runs.claim(job, opts('a'))).toBe(1);
    await runs.finish(job, 'a', { ok: true, durationMs: 1, result: { n: 1 }, error: null });
    expect(await runs.claim(job, opts('a', { force: true }))).toBe(2);
    await runs.finish(job, 'a', { ok: false, durationMs: 5, result: null, error: 'lock timeout' });
    const failed = (await runs.list()).find((r) => r.name === job)!;
    expect(failed).toMatchObject({ outcome: 'failed', last_error: 'lock timeout', result: { n: 1 }, lease_until: null });
    expect(failed.succeeded_at).not.toBeNull();
    await ds.query(`UPDATE scheduled_runs SET succeeded_at = now() - interval '2 hours' WHERE name = $1`, [job]); // due again
    expect(await runs.claim(job, opts('b'))).toBeNull(); // failed less than retryMs ago
    expect(await runs.claim(job, opts('b', { retryMs: 0 }))).toBe(3);
  });

  it('hands a dead holder’s run to another worker once its lease lapses, and the old holder cannot finish it', async () => {
    const job = uniqueName('job');
    expect(await runs.claim(job, opts('dies', { leaseMs: 1 }))).toBe(1);
    await new Promise((r) => setTimeout(r, 20));
    expect(await runs.claim(job, opts('takes-over'))).toBe(2);
    expect(await runs.heartbeat(job, 'dies', 60_000)).toBe(false);
    expect(await runs.heartbeat(job, 'takes-over', 60_000)).toBe(true);
    await runs.finish(job, 'dies', { ok: false, durationMs: 1, result: null, error: 'late' }); // no effect
    expect((await runs.list()).find((r) => r.name === job)).toMatchObject({ runner: 'takes-over', outcome: null, last_error: null });
  });
});
