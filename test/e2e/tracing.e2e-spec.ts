import { randomUUID } from 'node:crypto';
import { countEvents, waitFor } from '../support/app';
import { createDatabase } from '../support/database';
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


const OPENMETRICS = { Accept: 'application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2' };

/** The exemplars of one histogram's bucket lines in an OpenMetrics scrape: the trace ids they name. */
function exemplarTraceIds(scrape: string, histogram: string, labelMatch = ''): string[] {
  return scrape
    .split('\n')
    .filter((l) => l.startsWith(`${histogram}_bucket{`) && l.includes(labelMatch))
    .map((l) => / # \{trace_id="([0-9a-f]{32})",span_id="[0-9a-f]{16}"\} /.exec(l)?.[1])
    .filter((id): id is string => id !== undefined);
}

/**
 * Runs api and worker with `env`, sends one batch of three events, waits until they are stored,
 * scrapes both in OpenMetrics, stops both (flushing spans).
 */
async function oneBatch(prefix: string, env: Record<string, string>): Promise<{ sourceId: string; writeKey: string; secretValue: string; apiScrape: string; workerScrape: string }> {
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
    const [apiScrape, workerScrape] = await Promise.all([api, worker].map(async (p) => (await fetch(`${p.url}/metrics`, { headers: OPENMETRICS })).text()));
    return { sourceId: source.id, writeKey: source.writeKey, secretValue, apiScrape, workerScrape };
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
    const { sourceId, writeKey, secretValue, apiScrape, workerScrape } = await oneBatch(prefix(), {
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
    // One SERVER span per request (@fastify/otel), named after the route; no span per Fastify hook.
    const server = requestSpans.filter((s) => s.kind === 2); // SPAN_KIND_SERVER
    expect(server.map((s) => s.name)).toEqual(['POST /v1/batch']);
    expect(server[0].attributes['http.route']).toBe('/v1/batch');
    expect(requestSpans.filter((s) => /^(onRequest|preHandler|preValidation|onSend|handler) - /.test(s.name))).toEqual([]);
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

    // Exemplars (OpenMetrics scrape): the request's duration bucket names the request's trace,
    // the lag bucket names the job's trace; the classic text format carries none.
    expect(exemplarTraceIds(apiScrape, 'http_request_duration_seconds', 'route="/v1/batch"')).toEqual([traceId]);
    expect(exemplarTraceIds(workerScrape, 'sluice_end_to_end_lag_seconds')).toEqual([job.traceId]);
    expect(apiScrape.trimEnd().endsWith('# EOF')).toBe(true);

    // No write key, authorization or event content anywhere in what was exported.
    const everything = receiver.bodies.join('\n');
    expect(everything).not.toContain(writeKey);
    expect(everything).not.toContain(Buffer.from(`${writeKey}:`).toString('base64'));
    expect(everything).not.toContain(secretValue);
  });

  it('keeps the context through a retried job: every attempt links to the same request', async () => {
    // A database of its own with a trigger that fails the first insert with a serialization
    // failure (transient: the job is retried with backoff, an attempt used). The sequence is not
    // rolled back with the failed statement, so only the first attempt fails.
    const db = await createDatabase('otel_retry');
    const p = prefix();
    const env = {
      DATABASE_URL: db.url,
      OTEL_SDK_DISABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_TRACES_SAMPLER: 'always_on',
      OTEL_SERVICE_NAME: `retry-${p}`,
      JOB_BACKOFF_MS: '200',
    };
    try {
      await db.query(`CREATE SEQUENCE fail_once_seq`);
      await db.query(`CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF nextval('fail_once_seq') = 1 THEN RAISE EXCEPTION 'planned failure of the first attempt' USING ERRCODE = '40001'; END IF;
          RETURN NEW;
        END $$`);
      await db.query(`CREATE TRIGGER fail_once BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION fail_once()`);
      const api = await startRole('api', p, env);
      const worker = await startRole('worker', p, env);
      let sourceId = '';
      try {
        const source = await createSourceVia(api, uniqueName('otel'));
        sourceId = source.id;
        const batch = [0, 1].map((i) => ({ type: 'track', userId: 'u-retry', event: 'Retried', messageId: `${p}-${i}` }));
        const res = await fetch(`${api.url}/v1/batch`, {
          method: 'POST',
          headers: { Authorization: `Basic ${Buffer.from(`${source.writeKey}:`).toString('base64')}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ batch }),
        });
        expect(res.status).toBe(200);
        const stored = async () => Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM events WHERE source_id = $1`, [sourceId]))[0].n);
        await waitFor(stored, (n) => n === 2, 30_000);
      } finally {
        expect(await stopRole(worker)).toBe(0);
        expect(await stopRole(api)).toBe(0);
      }
      const mine = receiver.spans.filter((s) => s.resource['service.name'] === `retry-${p}`);
      const validate = mine.filter((s) => s.name === 'ingest.validate' && s.attributes['sluice.source.id'] === sourceId);
      expect(validate).toHaveLength(1);
      const request = mine.filter((s) => s.traceId === validate[0].traceId).map((s) => s.spanId);
      const jobs = mine.filter((s) => s.name === 'events.persist_job').sort((a, b) => Number(a.attributes['sluice.job.attempt']) - Number(b.attributes['sluice.job.attempt']));
      expect(jobs.map((j) => j.attributes['sluice.job.attempt'])).toEqual([1, 2]);
      expect(jobs[0].attributes['sluice.job.id']).toBe(jobs[1].attributes['sluice.job.id']);
      expect(jobs[0].status).toBe(2); // the failed attempt is marked as an error
      expect(jobs[1].attributes['sluice.events.inserted']).toBe(2);
      for (const job of jobs) {
        expect(job.links).toHaveLength(1);
        expect(job.links[0].traceId).toBe(validate[0].traceId);
        expect(request).toContain(job.links[0].spanId);
      }
      // Each attempt is a trace of its own (not a child of the other), linked to the request.
      expect(jobs[0].traceId).not.toBe(jobs[1].traceId);
    } finally {
      await db.drop();
    }
  });
});
