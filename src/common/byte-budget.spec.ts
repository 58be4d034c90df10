import { ByteBudget } from './byte-budget';

describe('ByteBudget', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('admits requests at once while they fit', async () => {
    const budget = new ByteBudget(100);
    const a = await budget.reserve(60, 1000);
    const b = await budget.reserve(40, 1000);
    expect(a).toBeInstanceOf(Function);
    expect(b).toBeInstanceOf(Function);
    expect(budget.inUse).toBe(100);
  });

  it('holds a request that does not fit until room frees up, then admits it', async () => {
    const budget = new ByteBudget(100);
    const first = (await budget.reserve(80, 1000))!;
    let second: (() => void) | null | undefined;
    void budget.reserve(50, 1000).then((r) => (second = r));
    await Promise.resolve();
    expect(second).toBeUndefined();
    expect(budget.queued).toBe(1);
    first();
    await Promise.resolve();
    expect(second).toBeInstanceOf(Function);
    expect(budget.inUse).toBe(50);
  });

  it('gives up on a waiting request after its wait, and the budget stays consistent', async () => {
    const budget = new ByteBudget(100);
    const first = (await budget.reserve(100, 1000))!;
    const waited = budget.reserve(10, 500);
    jest.advanceTimersByTime(500);
    await expect(waited).resolves.toBeNull();
    expect(budget.queued).toBe(0);
    first();
    expect(budget.inUse).toBe(0);
  });

  it('refuses at once with no wait allowed', async () => {
    const budget = new ByteBudget(10);
    await budget.reserve(10, 0);
    await expect(budget.reserve(1, 0)).resolves.toBeNull();
  });

  it('lets a request heavier than the whole budget run alone', async () => {
    const budget = new ByteBudget(100);
    const big = (await budget.reserve(500, 1000))!;
    expect(budget.inUse).toBe(500);
    let small: (() => void) | null | undefined;
    void budget.reserve(1, 1000).then((r) => (small = r));
    await Promise.resolve();
    expect(small).toBeUndefined();
    big();
    await Promise.resolve();
    expect(small).toBeInstanceOf(Function);
  });

  it('serves waiters in arrival order: light ones do not overtake a heavy one', async () => {
    const budget = new ByteBudget(100);
    const hold = (await budget.reserve(90, 1000))!;
    const order: string[] = [];
    void budget.reserve(80, 1000).then((r) => { order.push('heavy'); r?.(); });
    void budget.reserve(5, 1000).then((r) => { order.push('light'); r?.(); });
    await Promise.resolve();
    // 5 bytes would fit beside the 90, but the heavy request came first.
    expect(order).toEqual([]);
    hold();
    await Promise.resolve();
    await Promise.resolve();
    expect(order).toEqual(['heavy', 'light']);
  });

  it('ignores a second release', async () => {
    const budget = new ByteBudget(100);
    const release = (await budget.reserve(30, 0))!;
    release();
    release();
    expect(budget.inUse).toBe(0);
  });

  it('wakes the ones behind a waiter that timed out', async () => {
    const budget = new ByteBudget(100);
    const hold = (await budget.reserve(50, 1000))!;
    const heavy = budget.reserve(80, 100);
    let light: (() => void) | null | undefined;
    void budget.reserve(40, 10_000).then((r) => (light = r));
    jest.advanceTimersByTime(100);
    await expect(heavy).resolves.toBeNull();
    await Promise.resolve();
    expect(light).toBeInstanceOf(Function);
    hold();
  });
});
