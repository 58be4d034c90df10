import { RateWindow } from './rate-window';

describe('RateWindow', () => {
  it('lets at most max through per second, then starts a new second', () => {
    const w = new RateWindow(3);
    const t0 = 1_000_000;
    expect([0, 1, 2, 3, 4].map((i) => w.take(t0 + i))).toEqual([true, true, true, false, false]);
    expect(w.take(t0 + 999)).toBe(false);
    expect(w.take(t0 + 1000)).toBe(true);
    expect(w.take(t0 + 1001)).toBe(true);
  });

  it('never lets more than max through in one window however many are offered', () => {
    const w = new RateWindow(50);
    let sent = 0;
    for (let i = 0; i < 10_000; i++) if (w.take(5000 + i / 100)) sent++; // 10,000 within 100 ms
    expect(sent).toBe(50);
  });
});
