import fc from 'fast-check';
import { inspectValue, locateProblem, MAX_NUMBER_BYTES } from './event-inspection';

const unlimited = { maxDepth: 1000, stopAbove: Number.MAX_SAFE_INTEGER };
const deep = (levels: number) => JSON.parse('{"a":'.repeat(levels) + '1' + '}'.repeat(levels));

describe('inspectValue', () => {
  const samples: unknown[] = [
    { a: 1, b: 'x', c: [1, 2, { d: null, e: true }] },
    { text: 'é€😀"\\\n\u0001', nested: { deep: ['😀'.repeat(50)] } },
    { userId: 'u', event: 'E', properties: { big: 'y'.repeat(5000) } },
    [],
    {},
    'plain',
  ];

  it.each(samples.map((s, i) => [i, s] as const))('never under-estimates the serialized size (sample %i)', (_i, s) => {
    expect(inspectValue(s, unlimited)).toMatchObject({ upperBound: expect.any(Number), problem: null, exceeded: false });
    expect(inspectValue(s, unlimited).upperBound).toBeGreaterThanOrEqual(Buffer.byteLength(JSON.stringify(s)));
  });

  it('never under-estimates the size of arbitrary storable JSON (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        const r = inspectValue(v, unlimited);
        // fc.jsonValue's strings are well-formed and its numbers finite; NUL is the one to skip.
        if (r.problem) return JSON.stringify(v).includes('\\u0000');
        return r.upperBound >= Buffer.byteLength(JSON.stringify(v));
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it('stops early once past the limit', () => {
    expect(inspectValue({ a: 'x'.repeat(100), b: 'y'.repeat(100) }, { maxDepth: 10, stopAbove: 10 }).upperBound).toBeGreaterThan(10);
    expect(inspectValue({ a: 'x'.repeat(100), b: 'y'.repeat(100) }, { maxDepth: 10, stopAbove: 10 }).exceeded).toBe(true);
  });

  // The size bound may pass the limit long before the value does (6 bytes a character): what
  // comes after the point where the bound passed it must still be checked, since the value may
  // still be accepted.
  it.each([
    ['NUL', { bad: 'a\u0000b', big: 'x'.repeat(6000) }, 'invalid_text'],
    ['a lone surrogate in a key', { ['k\ud800']: 1, big: 'x'.repeat(6000) }, 'invalid_text'],
    ['too deep', { deep: deep(20_000), big: 'x'.repeat(6000) }, 'too_deep'],
    ['Infinity', { n: JSON.parse('1e400'), big: 'x'.repeat(6000) }, 'invalid_number'],
  ])('checks everything after the size bound passed the limit (%s)', (_name, value, problem) => {
    const r = inspectValue(value, { maxDepth: 64, stopAbove: 32_768 });
    expect(r).toMatchObject({ problem, exceeded: false });
  });

  it('stops only once the value is certainly larger than the limit', () => {
    // 40,000 characters: more than 32,768 bytes however they are written
    expect(inspectValue({ deep: deep(20_000), big: 'x'.repeat(40_000) }, { maxDepth: 64, stopAbove: 32_768 })).toMatchObject({ problem: null, exceeded: true });
    expect(inspectValue({ big: 'x'.repeat(30_000) }, { maxDepth: 64, stopAbove: 32_768 })).toMatchObject({ problem: null, exceeded: false });
  });

  it('never under-estimates numbers, the longest included, and counts them', () => {
    const v = [-0.0000012345678901234567, -1.7976931348623157e308, 1e20, -0.000001234567890123456, 5e-324];
    const r = inspectValue(v, unlimited);
    expect(r.upperBound).toBeGreaterThanOrEqual(Buffer.byteLength(JSON.stringify(v)));
    expect(r.numbers).toBe(5);
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true })), (xs) => inspectValue(xs, unlimited).upperBound >= Buffer.byteLength(JSON.stringify(xs))),
      { seed: 7, numRuns: 300 },
    );
    expect(MAX_NUMBER_BYTES).toBe(Math.max(...v.map((x) => String(x).length)));
  });

  it('refuses nesting deeper than maxDepth, without recursion, at any depth', () => {
    expect(inspectValue(deep(5), { maxDepth: 6, stopAbove: 1e9 }).problem).toBeNull();
    expect(inspectValue(deep(6), { maxDepth: 6, stopAbove: 1e9 }).problem).toBeNull();
    expect(inspectValue(deep(7), { maxDepth: 6, stopAbove: 1e9 }).problem).toBe('too_deep');
    expect(inspectValue(deep(100_000), { maxDepth: 64, stopAbove: 1e9 }).problem).toBe('too_deep');
    expect(locateProblem(deep(100), 'too_deep', 3)).toBe('a.a.a');
  });

  it.each([
    ['a lone high surrogate in a value', { p: { name: 'x\ud800y' } }, 'p.name'],
    ['a lone low surrogate in a value', { p: ['ok', '\udc00'] }, 'p[1]'],
    ['NUL in a value', { p: { n: 'a\u0000b' } }, 'p.n'],
    ['a lone surrogate in a key', { p: { ['k\ud800']: 1 } }, 'a key in p'],
    ['NUL in a key', { ['\u0000']: 1 }, 'a key in the event'],
  ])('refuses %s as invalid_text and says where', (_name, value, where) => {
    expect(inspectValue(value, unlimited).problem).toBe('invalid_text');
    expect(locateProblem(value, 'invalid_text', 100)).toBe(where);
  });

  it('accepts well-formed astral characters (surrogate pairs) and other control characters', () => {
    expect(inspectValue({ e: '😀 \u0001 \t', ['😀']: 'ok' }, unlimited).problem).toBeNull();
  });

  it('refuses numbers JSON.parse could not represent', () => {
    const v = JSON.parse('{"n": 1e400}');
    expect(inspectValue(v, unlimited).problem).toBe('invalid_number');
    expect(locateProblem(v, 'invalid_number', 100)).toBe('n');
  });
});
