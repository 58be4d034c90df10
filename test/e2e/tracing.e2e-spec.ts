import { randomUUID } from 'node:crypto';
import { countEvents, waitFor } from '../support/app';
import { uniqueName } from '../support/env';
import { OtlpReceiver, ReceivedSpan } from '../support/otlp-receiver';
import { createSourceVia, startRole, stopRole } from '../support/processes';
import { deleteRedisPrefix } from '../support/redis';

/**
 * OpenTelemetry across the queue, with api and worker as two OS processes from the build and an
 * in-process OTLP/HTTP receiver: one trace for a /v1/batch request, a worker job span that links
 * to it, nothing secret or from the events in any span; and, off by default, nothing sent at all.
 */
jest.setTimeout(120_000);


/** Runs api and worker with `env`, sends one batch of three events, waits until they are stored, stops both (flushing spans). */
async function oneBatch(prefix: string, env: Record<string, string>): Promise<{ sourceId: string; writeKey: string; secretValue: string }> {
  const api = await startRole('api', prefix, env);
  const worker = await startRole('worker', prefix, env);
  try {
    const source = await createSourceVia(api, uniqueName('otel'));
    const secretValue = `prop-${randomUUID()}`;
    const batch = [0, 1, 2].map((i) => ({ type: 'track', userId: `u-${secretValue}`, event: 'Traced', messageId: `${prefix}-${i}`, properties: { secret: secretValue, i } }));
    const res = await fetch(`${api.url}/v1/batch`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(`${source.writeKey}:`).toString('base64')}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ batch }),
    });
    expect(res.status).toBe(200);
    await waitFor(() => countEvents(source.id), (n) => n === 3, 30_000);
    return { sourceId: source.id, writeKey: source.writeKey, secretValue };
  } finally {
    expect(await stopRole(worker)).toBe(0);
    expect(await stopRole(api)).toBe(0);
  }
}

describe('tracing (OpenTelemetry) across api and worker processes', () => {
  const receiver = new OtlpReceiver();
  const prefixes: string[] = [];
  const prefix = () => {
    const p = uniqueName('otel');
    prefixes.push(p);
    return p;
  };

  beforeAll(() => receiver.start());
  afterAll(async () => {
    await receiver.stop();
    for (const p of prefixes) await deleteRedisPrefix(p);
  });

  it('sends nothing while tracing is off (the default)', async () => {
    await oneBatch(prefix(), { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER: 'always_on' });
    expect(receiver.bodies).toEqual([]);
  });

  it('traces a /v1/batch request into the worker job that stores it, with span links and no secret', async () => {
    const { sourceId, writeKey, secretValue } = await oneBatch(prefix(), {
      OTEL_SDK_DISABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_TRACES_SAMPLER: 'always_on',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
    });
    const spans = receiver.spans;
    const api = spans.filter((s) => s.resource['service.name'] === 'sluice-api');
    const worker = spans.filter((s) => s.resource['service.name'] === 'sluice-worker');
    expect(api[0]?.resource['deployment.environment.name']).toBe('test');

    // One trace for the request: the HTTP server span and Sluice's spans of the request share it.
    const named = (list: ReceivedSpan[], name: string) => list.filter((s) => s.name === name);
    const validate = named(api, 'ingest.validate');
    expect(validate).toHaveLength(1);
    expect(validate[0].attributes).toMatchObject({ 'sluice.source.id': sourceId, 'sluice.events.received': 3, 'sluice.events.accepted': 3 });
    const traceId = validate[0].traceId;
    const requestSpans = api.filter((s) => s.traceId === traceId);
    const names = requestSpans.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['ingest.validate', 'ingest.batch_wait', 'queue.enqueue']));
    expect(requestSpans.some((s) => s.kind === 2 && /POST/.test(s.name))).toBe(true); // SPAN_KIND_SERVER
    for (const name of ['ingest.batch_wait', 'queue.enqueue']) expect(named(api, name).every((s) => s.traceId === traceId)).toBe(true);
    const enqueue = named(api, 'queue.enqueue')[0];
    expect(enqueue.attributes['sluice.events.count']).toBe(3);
    expect(enqueue.attributes['sluice.job.ids']).toHaveLength(1);

    // The worker's job span, in the other process, links to the request's span.
    const jobs = named(worker, 'events.persist_job');
    expect(jobs).toHaveLength(1);
    const job = jobs[0];
    expect(job.traceId).not.toBe(traceId);
    expect(job.attributes).toMatchObject({ 'sluice.events.count': 3, 'sluice.job.requests': 1, 'sluice.events.inserted': 3, 'sluice.job.id': (enqueue.attributes['sluice.job.ids'] as string[])[0] });
    expect(job.links).toHaveLength(1);
    expect(job.links[0].traceId).toBe(traceId);
    expect(requestSpans.map((s) => s.spanId)).toContain(job.links[0].spanId);
    // The insert's spans are the job's.
    const inJob = worker.filter((s) => s.traceId === job.traceId).map((s) => s.name);
    expect(inJob).toEqual(expect.arrayContaining(['db.copy_staging', 'db.insert_events', 'db.commit']));

    // No write key, authorization or event content anywhere in what was exported.
    const everything = receiver.bodies.join('\n');
    expect(everything).not.toContain(writeKey);
    expect(everything).not.toContain(Buffer.from(`${writeKey}:`).toString('base64'));
    expect(everything).not.toContain(secretValue);
  });
});
