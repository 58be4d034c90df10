import { BadRequestException } from '@nestjs/common';
import { extractFieldFilters, MAX_FIELD_FILTERS } from './event-filters';

describe('extractFieldFilters', () => {
  it('takes properties.* and context.* out of the query, leaving the rest', () => {
    const q: Record<string, unknown> = { type: 'track', 'properties.plan': 'pro', 'context.library.name': ['a', 'b'] };
    expect(extractFieldFilters(q)).toEqual([
      { column: 'properties', path: ['plan'], value: 'pro' },
      { column: 'context', path: ['library', 'name'], value: 'a' },
      { column: 'context', path: ['library', 'name'], value: 'b' },
    ]);
    expect(q).toEqual({ type: 'track' });
  });

  it.each([
    [{ 'properties.a b': '1' }, /properties.a b/],
    [{ 'properties.': '1' }, /properties\./],
    [{ 'context.a.b.c.d.e': '1' }, /at most 4 names/],
    [{ 'properties.plan': '\u0000' }, /NUL/],
    [{ 'properties.plan': '\ud800' }, /surrogate/],
    [{ 'properties.plan': { nested: 1 } }, /must be a string/],
  ])('refuses %j with a 400', (q, message) => {
    expect(() => extractFieldFilters(q as Record<string, unknown>)).toThrow(BadRequestException);
    try {
      extractFieldFilters(q as Record<string, unknown>);
    } catch (err) {
      expect(JSON.stringify((err as BadRequestException).getResponse())).toMatch(message);
    }
  });

  it(`allows at most ${MAX_FIELD_FILTERS} filters`, () => {
    const q = Object.fromEntries(Array.from({ length: MAX_FIELD_FILTERS + 1 }, (_, i) => [`properties.p${i}`, 'x']));
    expect(() => extractFieldFilters(q)).toThrow(/At most 10/);
  });
});
