import Bull from 'bull';
import { OrphanedJobs } from '../../src/queue/orphaned-jobs';
import { PersistEventsJob } from '../../src/queue/queue.constants';
import { REDIS_URL, uniqueName } from '../support/env';
import { deleteRedisPrefix } from '../support/redis';

// The recovery script on a real Redis, with Bull's own lock and list layout (which it pins:
// an upgrade that renames `token`, `toKey` or the lock key fails here).
describe('OrphanedJobs.recover (real Redis, Bull 4 layout)', () => {
  const prefix = uniqueName('orphan');
  const name = 'events';
  let ours: Bull.Queue<PersistEventsJob>;
  let theirs: Bull.Queue<PersistEventsJob>;

  beforeAll(async () => {
    ours = new Bull(name, REDIS_URL, { prefix });
    theirs = new Bull(name, REDIS_URL, { prefix });
    await Promise.all([ours.isReady(), theirs.isReady()]);
  });
  afterAll(async () => {
    await Promise.all([ours.close(), theirs.close()]);
    await deleteRedisPrefix(prefix);
  });

  it('moves back to wait only the active jobs this queue locked and is not running', async () => {
    const data = { requests: [], events: [] } as PersistEventsJob;
    const [a, b, c] = await Promise.all([ours.add(data), ours.add(data), ours.add(data)]);
    // getNextJob = what a worker does: the job goes to active, locked with the Queue's token.
    const lost = await ours.getNextJob();
    const running = await ours.getNextJob();
    const other = await theirs.getNextJob();
    expect(new Set([lost!.id, running!.id, other!.id])).toEqual(new Set([a.id, b.id, c.id]));
    expect(await ours.client.get(`${ours.toKey(String(lost!.id))}:lock`)).toBe(ours.token);

    const moved = await new OrphanedJobs(ours).recover([String(running!.id)]);

    expect(moved).toEqual([String(lost!.id)]);
    expect(await ours.getWaiting()).toEqual([expect.objectContaining({ id: lost!.id })]);
    expect((await ours.getActive()).map((j) => j.id).sort()).toEqual([running!.id, other!.id].sort());
    expect(await ours.client.exists(`${ours.toKey(String(lost!.id))}:lock`)).toBe(0);
    expect(await ours.client.get(`${ours.toKey(String(other!.id))}:lock`)).toBe(theirs.token);
    // Not counted as a stall: the job did nothing wrong.
    expect(await ours.client.hget(ours.toKey(String(lost!.id)), 'stalledCounter')).toBeNull();
    expect(await new OrphanedJobs(ours).recover([String(running!.id)])).toEqual([]);
  });
});
