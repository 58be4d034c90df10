import { matchesFilter, parseLiveFilter } from './live-filter';

describe('parseLiveFilter', () => {
  it('means everything without parameters', () => {
    const f = parseLiveFilter({});
    expect(f).toEqual({ types: null, names: null });
    expect(matchesFilter(f, 'identify', null)).toBe(true);
  });

  it('reads a comma-separated type list, repeated or not', () => {
    expect([...parseLiveFilter({ type: 'track,identify' }).types!]).toEqual(['track', 'identify']);
    expect([...parseLiveFilter({ type: ['page', 'screen, group'] }).types!]).toEqual(['page', 'screen', 'group']);
  });

  it.each([['click'], ['track,'], [''], ['TRACK'], [['track', 'nope']]])('refuses type=%j with a 400 naming the field', (type) => {
    expect(() => parseLiveFilter({ type })).toThrow(expect.objectContaining({ status: 400, response: expect.objectContaining({ reason: 'invalid_type', field: 'type' }) }));
  });

  it('takes event once or repeated, exact names', () => {
    const f = parseLiveFilter({ event: ['Order Completed', 'Signed Up'] });
    expect(matchesFilter(f, 'track', 'Order Completed')).toBe(true);
    expect(matchesFilter(f, 'track', 'order completed')).toBe(false);
    expect(matchesFilter(f, 'identify', null)).toBe(false);
    expect([...parseLiveFilter({ event: 'One' }).names!]).toEqual(['One']);
  });

  it('refuses an empty, overlong or non-text event, and too many of them', () => {
    for (const event of ['', 'x'.repeat(1001), { a: 1 }, [['nested']]]) {
      expect(() => parseLiveFilter({ event })).toThrow(expect.objectContaining({ status: 400, response: expect.objectContaining({ field: 'event' }) }));
    }
    expect(() => parseLiveFilter({ event: Array.from({ length: 51 }, (_, i) => `e${i}`) })).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('combines type and event (both must match)', () => {
    const f = parseLiveFilter({ type: 'page', event: 'Home' });
    expect(matchesFilter(f, 'page', 'Home')).toBe(true);
    expect(matchesFilter(f, 'track', 'Home')).toBe(false);
    expect(matchesFilter(f, 'page', 'Pricing')).toBe(false);
  });
});
