import { effectiveRetentionDays, pastRetention, retentionCutoff } from './timestamps';

const DAY = 86_400_000;

describe('retention arithmetic', () => {
  it('cuts at the start of the UTC day that holds now - days', () => {
    const now = Date.parse('2026-12-03T12:16:35.123Z');
    expect(retentionCutoff(now, 6).toISOString()).toBe('2026-11-27T00:00:00.000Z');
    expect(retentionCutoff(Date.parse('2026-12-03T00:00:00.000Z'), 1).toISOString()).toBe('2026-12-02T00:00:00.000Z');
    expect(retentionCutoff(Date.parse('1970-01-02T05:00:00Z'), 3).toISOString()).toBe('1969-12-30T00:00:00.000Z');
  });

  it('never removes what the door still accepts', () => {
    for (const now of [Date.parse('2026-12-03T23:59:59.999Z'), Date.parse('2026-12-03T00:00:00Z'), Date.parse('2026-06-30T07:30:00Z')]) {
      for (const days of [1, 7, 730]) {
        const cut = retentionCutoff(now, days).getTime();
        expect(pastRetention(cut - 1, now, days)).toBe(true); // everything removed is refused too
        expect(cut).toBeLessThanOrEqual(now - days * DAY);
        expect(now - days * DAY - cut).toBeLessThan(DAY);
      }
    }
  });

  it('lets a source shorten the global retention, never lengthen it', () => {
    expect(effectiveRetentionDays(null, 730)).toBe(730);
    expect(effectiveRetentionDays(undefined, 30)).toBe(30);
    expect(effectiveRetentionDays(7, 30)).toBe(7);
    expect(effectiveRetentionDays(90, 30)).toBe(30);
  });
});
