import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, ParentBasedSampler, SimpleSpanProcessor, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-node';
import { BatchTracing } from '../ingest/batch-tracing';
import { contextFormat } from '../logging/logger';
import { AcceptedEvent, IncomingEvent, JobRequest } from '../queue/queue.constants';
import { QueryStringRemover } from './sdk';
import { currentTraceparent, inSpan, inSpanSync, linksTo, markTracingOn, parseTraceparent, startSpan } from './trace-context';

/** The helpers with a real SDK registered, as start-tracing.ts does when tracing is on. */
describe('spans with tracing on', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new QueryStringRemover(), new SimpleSpanProcessor(exporter)] });

  beforeAll(() => {
    provider.register();
    markTracingOn();
  });
  afterEach(() => exporter.reset());
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  const finished = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);

  it('injects the active span as traceparent, and a job span extracts it as a link in a trace of its own', async () => {
    let tp: string | undefined;
    inSpanSync('request', {}, () => (tp = currentTraceparent()));
    const request = finished('request')[0];
    expect(parseTraceparent(tp)).toMatchObject({ traceId: request.spanContext().traceId, spanId: request.spanContext().spanId });

    // Two attempts of the same job (a retry) link to the same request.
    for (let attempt = 1; attempt <= 2; attempt++) {
      await inSpan('job', { root: true, links: linksTo([tp]), attributes: { 'sluice.job.attempt': attempt } }, async () => undefined);
    }
    const jobs = finished('job');
    expect(jobs).toHaveLength(2);
    for (const job of jobs) {
      expect(job.spanContext().traceId).not.toBe(request.spanContext().traceId);
      expect(job.parentSpanContext).toBeUndefined();
      expect(job.links.map((l) => l.context.spanId)).toEqual([request.spanContext().spanId]);
    }
  });

  it('marks a failed span with the error kind, never its message', async () => {
    const err = Object.assign(new Error('invalid input syntax for type json: {"secret":"x"}'), { code: '22P02' });
    await expect(inSpan('db.insert_events', {}, () => Promise.reject(err))).rejects.toBe(err);
    const span = finished('db.insert_events')[0];
    expect(span.status.code).toBe(2);
    expect(span.attributes['error.type']).toBe('22P02');
    expect(JSON.stringify({ ...span.attributes, events: span.events, status: span.status })).not.toContain('secret');
  });

  it('cuts the query string out of URL attributes', () => {
    const span = startSpan('GET', { attributes: { 'url.path': '/v1/sources/s/events?userId=alice', 'http.target': '/x?writeKey=k', 'url.query': 'userId=alice' } })!;
    span.end();
    expect(finished('GET')[0].attributes).toMatchObject({ 'url.path': '/v1/sources/s/events', 'http.target': '/x', 'url.query': '[removed]' });
  });

  it('micro-batching: each request waits in its own trace; the enqueue is a child of the first and links to the others', async () => {
    const tracing = new BatchTracing();
    const e = { type: 'track', messageId: 'm' } as IncomingEvent;
    const reqs: JobRequest[] = [];
    for (const name of ['first', 'second']) {
      inSpanSync(name, {}, () => {
        const req: JobRequest = { s: 'src-1', t: new Date().toISOString(), tp: currentTraceparent() };
        tracing.waitStarts(req, 1);
        reqs.push(req);
      });
    }
    const events: AcceptedEvent[] = reqs.map((req) => ({ req, e }));
    await tracing.flush(events, async () => undefined);
    const [first, second] = [finished('first')[0], finished('second')[0]];
    const waits = finished('ingest.batch_wait');
    expect(waits.map((w) => w.parentSpanContext?.spanId).sort()).toEqual([first.spanContext().spanId, second.spanContext().spanId].sort());
    const enqueue = finished('queue.enqueue')[0];
    expect(enqueue.parentSpanContext?.spanId).toBe(first.spanContext().spanId);
    expect(enqueue.links.map((l) => l.context.spanId)).toEqual([second.spanContext().spanId]);
    expect(enqueue.attributes).toMatchObject({ 'sluice.events.count': 2, 'sluice.batch.requests': 2, 'sluice.source.ids': ['src-1'] });
  });

  it('puts trace_id and span_id on a log line written inside a span, and nothing outside one', () => {
    const format = contextFormat('api');
    const outside = format.transform({ level: 'info', message: 'x' }) as Record<string, unknown>;
    expect(outside.trace_id).toBeUndefined();
    inSpanSync('logged', {}, (span) => {
      const line = format.transform({ level: 'info', message: 'y' }) as Record<string, unknown>;
      expect(line).toMatchObject({ trace_id: span!.spanContext().traceId, span_id: span!.spanContext().spanId });
    });
  });
});

/** A parent-based sampler at a ratio: what the chart runs (1 %). */
describe('spans under an unsampled parent (parentbased sampler)', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0) }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });

  beforeAll(() => {
    provider.register();
    markTracingOn({ followParent: true });
  });
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
    markTracingOn();
  });

  it('makes none of our child spans (no object, no context switch), but still starts root spans', async () => {
    const unsampled = trace.getTracer('t').startSpan('request');
    expect(unsampled.isRecording()).toBe(false);
    await context.with(trace.setSpan(context.active(), unsampled), async () => {
      expect(startSpan('ingest.validate')).toBeUndefined();
      expect(inSpanSync('x', {}, (span) => span)).toBeUndefined();
      expect(await inSpan('y', {}, async (span) => span)).toBeUndefined();
      // A job span is a root (a trace of its own): the sampler decides, here "not sampled".
      const job = await inSpan('events.persist_job', { root: true }, async (span) => span);
      expect(job).toBeDefined();
      expect(job?.isRecording()).toBe(false);
    });
    unsampled.end();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});
