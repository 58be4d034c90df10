import { MicroBatcher } from './micro-batcher';

interface Deferred {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** A flush function whose calls are recorded and settled by the test. */
function controlledFlush() {
  const calls: { items: number[]; settle: Deferred }[] = [];
  const fn = jest.fn(
    (items: number[]) =>
      new Promise<void>((resolve, reject) => {
        calls.push({ items: [...items], settle: { resolve, reject } });
      }),
  );
  return { fn, calls };
}

/** Tracks whether a promise has settled, without awaiting it. */
function observe(p: Promise<void>) {
  const state = { settled: false, resolved: false, error: undefined as unknown };
  p.then(
    () => Object.assign(state, { settled: true, resolved: true }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

/** Lets pending promise callbacks run (fake timers do not touch microtasks). */
const tick = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('MicroBatcher', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('resolves immediately for an empty add without flushing', async () => {
    const { fn } = controlledFlush();
    const batcher = new MicroBatcher(fn, { maxItems: 3, maxDelayMs: 10 });
    await expect(batcher.add([])).resolves.toBeUndefined();
    jest.advanceTimersByTime(100);
    expect(fn).not.toHaveBeenCalled();
  });

  it('flushes once maxItems are pending, without waiting for the timer', async () => {
    const { fn, calls } = controlledFlush();
    const batcher = new MicroBatcher(fn, { maxItems: 3, maxDelayMs: 1000 });
    void batcher.add([1]);
    void batcher.add([2]);
    expect(fn).not.toHaveBeenCalled();
    expect(batcher.pendingCount).toBe(2);
    void batcher.add([3]);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(calls[0].items).toEqual([1, 2, 3]);
    expect(batcher.pendingCount).toBe(0);
    calls[0].settle.resolve();
    await tick();
  });

  it('flushes everything pending when an add crosses maxItems', () => {
    const { fn, calls } = controlledFlush();
    const batcher = new MicroBatcher(fn, { maxItems: 4, maxDelayMs: 1000 });
    void batcher.add([1, 2]);
    void batcher.add([3, 4, 5]);
    expect(calls.map((c) => c.items)).toEqual([[1, 2, 3, 4, 5]]);
  });

  it('flushes maxDelayMs after the first pending item', () => {
    const { fn, calls } = controlledFlush();
    const batcher = new MicroBatcher(fn, { maxItems: 100, maxDelayMs: 50 });
    void batcher.add([1]);
    jest.advanceTimersByTime(30);
    void batcher.add([2]); // does not restart the timer
    jest.advanceTimersByTime(19);
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(calls.map((c) => c.items)).toEqual([[1, 2]]);
  });

  it('starts a new delay window for items added after a flush', () => {
    const { fn, calls } = controlledFlush();
    const batcher = new MicroBatcher(fn, { maxItems: 100, maxDelayMs: 50 });
    void batcher.add([1]);
    jest.advanceTimersByTime(50);
    void batcher.add([2]);
    jest.advanceTimersByTime(49);
    expect(calls).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(calls.map((c) => c.items)).toEqual([[1], [2]]);
  });

  it('cancels the timer when a size flush happens first', () => {
    const { fn } = controlledFlush();
    const batcher = new MicroBatcher(fn, { maxItems: 2, maxDelayMs: 50 });
    void batcher.add([1]);
    void batcher.add([2]);
    expect(fn).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(1000);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('sends an add of maxItems or more straight out, on its own', async () => {
    const { fn, calls } = controlledFlush();
    const batcher = new MicroBatcher(fn, { maxItems: 3, maxDelayMs: 50 });
    const small = observe(batcher.add([1]));
    const big = observe(batcher.add([10, 11, 12, 13]));
    expect(calls.map((c) => c.items)).toEqual([[10, 11, 12, 13]]);
    expect(batcher.pendingCount).toBe(1);
    calls[0].settle.resolve();
    await tick();
    expect(big.resolved).toBe(true);
    expect(small.settled).toBe(false);
    jest.advanceTimersByTime(50);
    expect(calls.map((c) => c.items)).toEqual([[10, 11, 12, 13], [1]]);
    calls[1].settle.resolve();
    await tick();
    expect(small.resolved).toBe(true);
  });

  it('resolves each caller only after the flush that carried its items', async () => {
    const { fn, calls } = controlledFlush();
    const batcher = new MicroBatcher(fn, { maxItems: 2, maxDelayMs: 50 });
    const a = observe(batcher.add([1]));
    const b = observe(batcher.add([2])); // flush #1: [1, 2]
    const c = observe(batcher.add([3]));
    jest.advanceTimersByTime(50); // flush #2: [3]
    expect(calls.map((x) => x.items)).toEqual([[1, 2], [3]]);
    await tick();
    expect([a.settled, b.settled, c.settled]).toEqual([false, false, false]);

    calls[1].settle.resolve();
    await tick();
    expect([a.settled, b.settled, c.resolved]).toEqual([false, false, true]);

    calls[0].settle.resolve();
    await tick();
    expect([a.resolved, b.resolved]).toEqual([true, true]);
  });

  it('rejects exactly the callers of a failed flush, with its error', async () => {
    const { fn, calls } = controlledFlush();
    const batcher = new MicroBatcher(fn, { maxItems: 2, maxDelayMs: 50 });
    const a = observe(batcher.add([1]));
    const b = observe(batcher.add([2])); // flush #1
    const c = observe(batcher.add([3]));
    jest.advanceTimersByTime(50); // flush #2
    const boom = new Error('redis down');
    calls[0].settle.reject(boom);
    calls[1].settle.resolve();
    await tick();
    expect(a.error).toBe(boom);
    expect(b.error).toBe(boom);
    expect(c.resolved).toBe(true);
    expect(c.error).toBeUndefined();
  });

  it('rejects the caller of a failed straight-out add', async () => {
    const boom = new Error('nope');
    const batcher = new MicroBatcher<number>(() => Promise.reject(boom), {
      maxItems: 2,
      maxDelayMs: 50,
    });
    await expect(batcher.add([1, 2, 3])).rejects.toBe(boom);
  });

  it('keeps working after a failed flush', async () => {
    let fail = true;
    const flushed: number[][] = [];
    const batcher = new MicroBatcher<number>(
      (items) => {
        flushed.push(items);
        return fail ? Promise.reject(new Error('once')) : Promise.resolve();
      },
      { maxItems: 2, maxDelayMs: 50 },
    );
    await expect(Promise.all([batcher.add([1]), batcher.add([2])])).rejects.toThrow('once');
    fail = false;
    const next = batcher.add([3]);
    jest.advanceTimersByTime(50);
    await expect(next).resolves.toBeUndefined();
    expect(flushed).toEqual([[1, 2], [3]]);
  });

  describe('drain', () => {
    it('flushes pending items at once and waits for that flush', async () => {
      const { fn, calls } = controlledFlush();
      const batcher = new MicroBatcher(fn, { maxItems: 100, maxDelayMs: 10_000 });
      const a = observe(batcher.add([1, 2]));
      const drained = observe(batcher.drain());
      expect(calls.map((c) => c.items)).toEqual([[1, 2]]);
      expect(batcher.pendingCount).toBe(0);
      expect(jest.getTimerCount()).toBe(0);
      await tick();
      expect(drained.settled).toBe(false);
      calls[0].settle.resolve();
      await tick();
      expect(drained.resolved).toBe(true);
      expect(a.resolved).toBe(true);
    });

    it('waits for every flush already under way, including straight-out ones', async () => {
      const { fn, calls } = controlledFlush();
      const batcher = new MicroBatcher(fn, { maxItems: 2, maxDelayMs: 10_000 });
      void batcher.add([1, 2, 3]).catch(() => undefined);
      void batcher.add([4]).catch(() => undefined);
      const drained = observe(batcher.drain());
      expect(calls).toHaveLength(2);
      calls[1].settle.resolve();
      await tick();
      expect(drained.settled).toBe(false);
      calls[0].settle.reject(new Error('failed')); // drain does not fail because a flush did
      await tick();
      expect(drained.resolved).toBe(true);
    });

    it('resolves at once when nothing is pending or in flight', async () => {
      const { fn } = controlledFlush();
      const batcher = new MicroBatcher(fn, { maxItems: 2, maxDelayMs: 10 });
      await expect(batcher.drain()).resolves.toBeUndefined();
      expect(fn).not.toHaveBeenCalled();
    });
  });
});

describe('MicroBatcher, adaptive mode (maxInFlight)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('flushes at the end of the event-loop turn when no flush is under way', () => {
    const { fn, calls } = controlledFlush();
    const batcher = new MicroBatcher(fn, { maxItems: 100, maxDelayMs: 1000, maxInFlight: 1 });
    void batcher.add([1]);
    void batcher.add([2]);
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1); // the setImmediate, long before the 1000 ms timer
    expect(calls.map((c) => c.items)).toEqual([[1, 2]]);
  });

  it('gathers while maxInFlight flushes are under way and sends the gathered items when one completes', async () => {
    const { fn, calls } = controlledFlush();
    const batcher = new MicroBatcher(fn, { maxItems: 100, maxDelayMs: 1000, maxInFlight: 1 });
    const first = observe(batcher.add([1]));
    jest.advanceTimersByTime(1);
    expect(calls).toHaveLength(1);
    const second = observe(batcher.add([2]));
    const third = observe(batcher.add([3]));
    jest.advanceTimersByTime(1);
    // Still one flush: the slot is taken, so 2 and 3 wait (the 1000 ms cap is far away).
    expect(calls).toHaveLength(1);
    calls[0].settle.resolve();
    await tick();
    expect(first.resolved).toBe(true);
    jest.advanceTimersByTime(1);
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3]]);
    expect(second.settled || third.settled).toBe(false);
    calls[1].settle.resolve();
    await tick();
    expect(second.resolved && third.resolved).toBe(true);
  });

  it('still honours maxDelayMs when the slots stay busy', () => {
    const { fn, calls } = controlledFlush();
    const batcher = new MicroBatcher(fn, { maxItems: 100, maxDelayMs: 50, maxInFlight: 1 });
    void batcher.add([1]);
    jest.advanceTimersByTime(1);
    void batcher.add([2]);
    jest.advanceTimersByTime(49);
    expect(calls).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(calls.map((c) => c.items)).toEqual([[1], [2]]);
  });
});
