import fc from 'fast-check';
import { AcceptedEvent, IncomingEvent, JobRequest, QueuedEvent } from '../../queue/queue.constants';
import { copyLine } from './copy-format';
import { toEventRow } from './enrichment';
import { acceptedAgain, jobEvents, parseCopyLine, queuedEventFromRow, renderRowsJob, rowLines } from './rows-job';

const SOURCE = '22222222-2222-4222-8222-222222222222';
const RECEIVED = '2024-05-01T12:00:00.000Z';

// Text with what COPY must escape, and what JSON must.
const nasty = fc.oneof(fc.string(), fc.constantFrom('a\tb', 'line\nbreak', 'back\\slash', 'cr\r', '\\N', 'tab\\t', '"quoted"', 'é ✓ 😀'));
const iso = fc.integer({ min: Date.parse('2024-04-20T00:00:00Z'), max: Date.parse('2024-05-03T00:00:00Z') }).map((t) => new Date(t).toISOString());
const jsonValue = fc.jsonValue({ maxDepth: 3 }).filter((v) => JSON.stringify(v) !== undefined);
const object = fc.dictionary(nasty, jsonValue, { maxKeys: 4 });

const incoming: fc.Arbitrary<IncomingEvent> = fc
  .record(
    {
      type: fc.constantFrom('track', 'page', 'identify', 'group', 'alias', 'screen'),
      messageId: nasty.filter((s) => s.length > 0),
      event: nasty,
      name: nasty,
      userId: fc.oneof(nasty, fc.integer(), fc.constant(null)),
      anonymousId: nasty,
      groupId: nasty,
      previousId: nasty,
      timestamp: iso,
      originalTimestamp: iso,
      sentAt: iso,
      properties: object,
      traits: object,
      context: fc.oneof(object, fc.record({ ip: fc.oneof(fc.constant(null), fc.ipV4()) })),
      integrations: object,
      custom: jsonValue,
      ['__proto__']: jsonValue,
    },
    { requiredKeys: ['type', 'messageId'] },
  )
  .map((e) => e as unknown as IncomingEvent);

const queued: fc.Arbitrary<QueuedEvent> = fc.record({
  e: incoming,
  ip: fc.option(fc.ipV4(), { nil: undefined }),
  t: fc.constant(RECEIVED),
  s: fc.constant(SOURCE),
}).map(({ e, ip, t, s }) => (ip ? { s, t, ip, e } : { s, t, e }));

describe('rows jobs', () => {
  it('a stored row read back and enriched again gives the same row (what a replayed dead letter stores)', () => {
    fc.assert(
      fc.property(queued, (q) => {
        const row = toEventRow(q, 7);
        const { idx, row: parsed } = parseCopyLine(copyLine(row, 3));
        expect(idx).toBe(3);
        expect(parsed).toEqual(JSON.parse(JSON.stringify(row)));
        const again = toEventRow(queuedEventFromRow(parsed, 'req-1'), 7);
        expect(again).toEqual(parsed);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps each request once, and the request of each row', () => {
    const a: JobRequest = { s: SOURCE, t: RECEIVED, ip: '10.0.0.1', r: 'req-a', context: { library: { name: 'x' } } };
    const b: JobRequest = { s: SOURCE, t: RECEIVED, r: 'req-b', tp: '00-0123456789abcdef0123456789abcdef-0123456789abcdef-01' };
    const ev = (id: string): IncomingEvent => ({ type: 'track', messageId: id, event: 'E' });
    const accepted: AcceptedEvent[] = [{ req: a, e: ev('1') }, { req: b, e: ev('2') }, { req: a, e: ev('3') }];
    const job = renderRowsJob(accepted, 7);
    expect(job.f).toBe(2);
    expect(job.requests).toEqual([{ s: SOURCE, t: RECEIVED, ip: '10.0.0.1', r: 'req-a' }, { s: SOURCE, t: RECEIVED, r: 'req-b', tp: b.tp }]);
    expect(job.q).toEqual([0, 1, 0]);
    expect(job.days).toEqual(['2024-05-01']);
    const rows = rowLines(job.rows).map((l) => parseCopyLine(l));
    expect(rows.map((r) => r.idx)).toEqual([0, 1, 2]);
    // The envelope and the ip are in the row, not in the job's requests.
    expect(rows[0].row.context).toEqual({ library: { name: 'x' }, ip: '10.0.0.1' });
    expect(rows[1].row.context).toBeNull();
  });

  it('sends quarantined events as letters, and stores flagged ones with their violations', () => {
    const req: JobRequest = { s: SOURCE, t: RECEIVED, r: 'req-q', ip: '10.0.0.9' };
    const violation = { type: 'track', keyword: 'required', instancePath: '/properties', message: 'must have required property total' };
    const job = renderRowsJob(
      [
        { req, e: { type: 'track', messageId: 'q', event: 'Order' }, v: { a: 'quarantine', p: 'plan@2', v: [violation] } },
        { req, e: { type: 'track', messageId: 'f', event: 'Order' }, v: { a: 'flag', p: 'plan@2', v: [violation] } },
      ],
      7,
    );
    expect(job.q).toEqual([0]);
    expect(job.letters).toEqual([expect.objectContaining({ q: 0, code: 'schema_violation', reason: expect.stringContaining('plan@2: must have required property total') })]);
    expect(parseCopyLine(rowLines(job.rows)[0]).row.violations).toEqual({ plan: 'plan@2', items: [violation] });
    // Every event of the job, as a dead letter would keep it.
    const all = jobEvents(job);
    expect(all.map((q) => q.e.messageId)).toEqual(['f', 'q']);
    expect(all[0].v).toEqual({ a: 'flag', p: 'plan@2', v: [violation] });
    expect(all[1]).toMatchObject({ s: SOURCE, t: RECEIVED, r: 'req-q', ip: '10.0.0.9', v: { a: 'quarantine' } });
    // Queued again (a swept job), the verdicts go with them.
    const again = renderRowsJob(acceptedAgain(all), 7);
    expect(again.q).toHaveLength(1);
    expect(again.letters?.[0].code).toBe('schema_violation');
  });

  it('sends an event whose row cannot be made as a letter', () => {
    const req: JobRequest = { s: SOURCE, t: 'not a time' };
    const job = renderRowsJob([{ req, e: { type: 'track', messageId: 'x' } }], 7);
    expect(job.q).toEqual([]);
    expect(job.letters?.[0]).toMatchObject({ code: 'enrichment_failed', reason: expect.stringContaining('enrichment failed') });
  });

  it('refuses a line with the wrong number of fields', () => {
    expect(() => parseCopyLine('0\tonly\ttwo\n')).toThrow(/fields/);
  });
});
