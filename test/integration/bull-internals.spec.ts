import Bull from 'bull';
import '../../src/queue/bull-internals';
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
});
