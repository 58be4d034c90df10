import Bull from 'bull';
import Redis from 'ioredis';
import '../../src/queue/bull-internals';
import { addPersistJobs, ROWS_FIELD } from '../../src/queue/job-rows';
import { PersistJob, PersistRowsJob } from '../../src/queue/queue.constants';
import { REDIS_URL, uniqueName } from '../support/env';
import { deleteRedisPrefix } from '../support/redis';

// Sluice touches two Bull internals (src/queue/bull-internals.ts, PersistEventsProcessor):
// Queue#process() names the worker connection through setWorkerName() in a floating promise,
// which Sluice replaces; and Queue#close() leaves the close under way in `closing`. If an
// upgrade changes either, this fails instead of the worker misbehaving quietly.
describe('Bull internals Sluice relies on', () => {
  const prefix = uniqueName('bullpin');
  afterAll(() => deleteRedisPrefix(prefix));

  it('process() calls setWorkerName(), and close() sets `closing`', async () => {
    const queue = new Bull('pin', REDIS_URL, { prefix });
    const setWorkerName = jest.fn(() => Promise.resolve());
    queue.setWorkerName = setWorkerName;
    expect(queue.closing).toBeUndefined();
    // The promise of process() settles only when the queue closes (it rejects then); the
    // processor tells that apart from a real failure by `closing`.
    let settledWhileClosing: boolean | undefined;
    const processing = queue.process('job', 1, async () => undefined).then(
      () => (settledWhileClosing = queue.closing !== undefined),
      () => (settledWhileClosing = queue.closing !== undefined),
    );
    await queue.isReady();
    expect(setWorkerName).toHaveBeenCalledTimes(1);
    const closed = queue.close();
    expect(queue.closing).toBeInstanceOf(Promise);
    await closed;
    await processing;
    expect(settledWhileClosing).toBe(true);
  });

  // src/queue/job-rows.ts adds jobs through Bull's Job class and addJob script, and wraps
  // Job.fromJSON so that a rows job's rows, kept in the job's hash beside its JSON, come back
  // into job.data.rows wherever Bull reads a job.
  it('a rows job keeps its rows in its own hash, beside the JSON, and reads them back everywhere', async () => {
    const queue = new Bull<PersistJob>('rows', REDIS_URL, { prefix, defaultJobOptions: { removeOnComplete: true, attempts: 2 } });
    const redis = new Redis(REDIS_URL);
    try {
      const rows = '0\t{"a":"x\\\\y"}\n1\t\\N\n'; // quotes and backslashes, as COPY text holds them
      const rowsJob: PersistRowsJob = { f: 2, requests: [{ s: 'src', t: '2026-12-04T00:00:00.000Z' }], q: [0, 0], rows, days: ['2026-12-04'] };
      const eventsJob: PersistJob = { requests: [{ s: 'src', t: '2026-12-04T00:00:00.000Z' }], events: [{ q: 0, e: { type: 'track', messageId: 'm' } }] };
      const [rowsId, eventsId] = await addPersistJobs(queue, [
        { name: 'persist', data: rowsJob },
        { name: 'persist', data: eventsJob },
      ]);
      expect(rowsId).toMatch(/^[0-9a-f-]{36}$/);
      const hash = await redis.hgetall(queue.toKey(rowsId));
      expect(hash[ROWS_FIELD]).toBe(rows);
      expect(JSON.parse(hash.data)).toEqual({ f: 2, requests: rowsJob.requests, q: [0, 0], days: ['2026-12-04'] });
      expect(JSON.parse(hash.opts)).toMatchObject({ removeOnComplete: true, attempts: 2, jobId: rowsId });
      expect(await redis.hexists(queue.toKey(eventsId), ROWS_FIELD)).toBe(0);
      expect(await redis.lrange(queue.toKey('wait'), 0, -1)).toEqual([eventsId, rowsId]);

      // Queue#getJob (Job.fromId) and the worker's next job (moveToActive) both go through Job.fromJSON.
      expect(((await queue.getJob(rowsId))!.data as PersistRowsJob).rows).toBe(rows);
      const seen = new Map<string, unknown>();
      const done = new Promise<void>((resolve) => {
        void queue.process('persist', 1, async (job) => {
          seen.set(String(job.id), (job.data as PersistRowsJob).rows);
          if (seen.size === 2) setImmediate(resolve);
        });
      });
      await done;
      expect(seen.get(rowsId)).toBe(rows);
      expect(seen.get(eventsId)).toBeUndefined();
      // removeOnComplete deletes the hash, and the rows with it: nothing outlives the job.
      for (let i = 0; i < 50 && (await redis.exists(queue.toKey(rowsId))) === 1; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await redis.exists(queue.toKey(rowsId))).toBe(0);
    } finally {
      redis.disconnect();
      await queue.close();
    }
  });
});
