import { AppConfig } from '../config';
import { AcceptedEvent } from '../queue/queue.constants';
import { EventsQueueProducer } from '../queue/events-queue.producer';
import { MetricsService } from '../metrics/metrics.service';
import { BackpressureService } from '../ratelimit/backpressure.service';
import { SuppressionsService } from '../privacy/suppressions.service';
import { IngestService } from './ingest.service';
import { PlanRegistry } from '../tracking-plans/plan-registry.service';
import { ViolationsRecorder } from '../tracking-plans/violations.recorder';
import { LiveService } from '../live/live.service';

const MAX_EVENT_BYTES = 32_768;

function service(maxEventBytes = MAX_EVENT_BYTES) {
  const queued: AcceptedEvent[] = [];
  const config = {
    limits: { maxEventBytes, maxRequestBytes: 512_000, maxBatchEvents: 2500, maxContextFanoutBytes: 2_048_000, maxEventDepth: 64 },
    batching: { flushEvents: 500, flushMs: 5, maxInFlight: 2 },
    worker: { partitionDaysAhead: 7 },
    retentionDays: 730,
  } as unknown as AppConfig;
  const producer = { enqueue: async (events: AcceptedEvent[]) => void queued.push(...events) } as unknown as EventsQueueProducer;
  const counter = { inc() {} };
  const metrics = { eventsRejected: counter, eventsReceived: counter, backpressureRejections: counter } as unknown as MetricsService;
  const backpressure = { current: { overLimit: false } } as unknown as BackpressureService;
  const suppressions = { isSuppressed: () => false, countDropped() {} } as unknown as SuppressionsService;
  const plans = { judge: () => undefined } as unknown as PlanRegistry;
  const violations = { record() {} } as unknown as ViolationsRecorder;
  const offered: AcceptedEvent[] = [];
  const live = { offer: (_sourceId: string, events: AcceptedEvent[]) => void offered.push(...events) } as unknown as LiveService;
  return { ingest: new IngestService(config, producer, metrics, backpressure, suppressions, plans, violations, live), queued, offered };
}

/** What the service sees of a body: the parsed value and, uncompressed, its length. */
const body = (json: string) => ({ value: JSON.parse(json) as unknown, bytes: Buffer.byteLength(json) });
const ctx = (bytes?: number) => ({ sourceId: '5b0e6c7e-8a0b-4c51-9b8e-0c1f3a0d8e21', bodyBytes: bytes });

describe('IngestService: what it accepts is storable and within MAX_EVENT_BYTES as stored', () => {
  it('measures a small body whose numbers grow when stored (6,000 × `1e20`: 30 KB sent, 138 KB stored)', async () => {
    const { ingest, queued } = service();
    const b = body(`{"userId":"u","event":"e","properties":{"a":[${Array(6000).fill('1e20').join(',')}]}}`);
    expect(b.bytes).toBeLessThan(MAX_EVENT_BYTES - 200);
    await expect(ingest.ingestOne('track', b.value, ctx(b.bytes))).rejects.toMatchObject({ response: { reason: 'event_too_large' } });
    expect(queued).toEqual([]);
  });

  it('still takes a small body at its word when its numbers cannot grow it past the limit', async () => {
    const { ingest, queued } = service();
    const b = body(`{"userId":"u","event":"e","properties":{"a":[${Array(100).fill('1e20').join(',')}],"s":"${'x'.repeat(20_000)}"}}`);
    expect(await ingest.ingestOne('track', b.value, ctx(b.bytes))).toEqual({ accepted: 1, rejected: [], suppressed: 0, dropped: 0 });
    expect(queued).toHaveLength(1);
  });

  it('checks the whole of an event whose size bound passed the limit (NUL, depth after a 6,000-character string)', async () => {
    const { ingest, queued } = service();
    const deep = '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000);
    const b = body(
      `{"batch":[` +
        `{"type":"track","userId":"u","event":"nul","properties":{"bad":"a\\u0000b","big":"${'x'.repeat(6000)}"}},` +
        `{"type":"track","userId":"u","event":"deep","properties":{"deep":${deep},"big":"${'x'.repeat(6000)}"}},` +
        `{"type":"track","userId":"u","event":"pad","properties":{"p":"${'p'.repeat(30_000)}"}}]}`,
    );
    const result = await ingest.ingestBatch(b.value, ctx(b.bytes));
    expect(result).toEqual({
      suppressed: 0,
      dropped: 0,
      accepted: 1,
      rejected: [
        { index: 0, reason: 'invalid_text', message: expect.stringContaining('properties.bad') },
        { index: 1, reason: 'event_too_deep', message: expect.any(String) },
      ],
    });
    expect(queued.map((q) => q.e.event)).toEqual(['pad']);
  });

  it('refuses an event that is certainly too large without measuring it (and says so)', async () => {
    const { ingest } = service();
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    const b = body(`{"userId":"u","event":"e","properties":{"deep":${deep},"big":"${'x'.repeat(40_000)}"}}`);
    await expect(ingest.ingestOne('track', b.value, ctx())).rejects.toMatchObject({ response: { reason: expect.stringMatching(/^event_too_(large|deep)$/) } });
  });

  it('bounds numbers at their longest (25 characters): 1,300 of them are over the limit', async () => {
    const { ingest } = service();
    const n = '-0.0000012345678901234567';
    expect(String(Number(n))).toHaveLength(25);
    const b = body(`{"userId":"u","event":"e","properties":{"a":[${Array(1300).fill(n).join(',')}]}}`);
    expect(Buffer.byteLength(JSON.stringify(b.value))).toBeGreaterThan(MAX_EVENT_BYTES);
    await expect(ingest.ingestOne('track', b.value, ctx(b.bytes))).rejects.toMatchObject({ response: { reason: 'event_too_large' } });
  });

  it('offers the accepted events to the live debugger once they are queued, and never a refused one', async () => {
    const { ingest, queued, offered } = service();
    await ingest.ingestBatch({ batch: [{ type: 'track', userId: 'u', event: 'ok', writeKey: 'wk' }, { type: 'track', event: 'no user' }] }, ctx());
    expect(offered.map((a) => a.e.event)).toEqual(['ok']);
    expect(offered[0]).toBe(queued[0]);
    expect(offered[0].e).not.toHaveProperty('writeKey');
  });
});
