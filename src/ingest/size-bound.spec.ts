import { jsonBytesUpperBound } from './ingest.service';

describe('jsonBytesUpperBound', () => {
  const samples: unknown[] = [
    { a: 1, b: 'x', c: [1, 2, { d: null, e: true }] },
    { text: 'é€😀"\\\n\u0001', nested: { deep: ['😀'.repeat(50)] } },
    { userId: 'u', event: 'E', properties: { big: 'y'.repeat(5000) } },
    [],
    {},
    'plain',
  ];

  it.each(samples.map((s, i) => [i, s] as const))('never under-estimates the serialized size (sample %i)', (_i, s) => {
    expect(jsonBytesUpperBound(s, Number.MAX_SAFE_INTEGER)).toBeGreaterThanOrEqual(Buffer.byteLength(JSON.stringify(s)));
  });

  it('stops early once past the limit', () => {
    expect(jsonBytesUpperBound({ a: 'x'.repeat(100), b: 'y'.repeat(100) }, 10)).toBeGreaterThan(10);
  });
});
