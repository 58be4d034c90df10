/**
 * `node --max-semi-space-size=1024 --min-semi-space-size=1024 -r ts-node/register/transpile-only bench/alloc-probe.ts [rounds]`:
 * heap bytes the api allocates per stage of one 100-event `POST /v1/batch` body, in one process
 * (the young generation sized so that no collection runs in between and heapUsed deltas are the
 * allocation). GC is the api's largest single cost (docs/performance.md, "Where the floor is"):
 * this says which stage makes the garbage.
 */
import { renderRowsJob } from '../src/domain/events/rows-job';
import { inspectValue } from '../src/ingest/event-inspection';
import { validateEvent } from '../src/ingest/event-validator';
import { AcceptedEvent, JobRequest } from '../src/queue/queue.constants';
import { BodyFactory } from './lib/events';

const bodies = BodyFactory.batch('probe', 100);
const used = () => process.memoryUsage().heapUsed;
const totals: Record<string, number> = {};
const add = (k: string, v: number) => (totals[k] = (totals[k] ?? 0) + v);
const ROUNDS = Number(process.argv[2] ?? 150);
for (let r = 0; r < ROUNDS; r++) {
  const text = bodies.next();
  let m = used();
  const stage = (name: string) => {
    const now = used();
    add(name, now - m);
    m = now;
  };
  const body = JSON.parse(text) as { batch: Record<string, unknown>[] };
  stage('JSON.parse of the body');
  for (const e of body.batch) validateEvent(e, e.type as string);
  stage('validateEvent');
  for (const e of body.batch) inspectValue(e, { maxDepth: 10, stopAbove: 32768 });
  stage('inspectValue');
  const req: JobRequest = { s: '22222222-2222-4222-8222-222222222222', t: new Date().toISOString(), ip: '10.0.0.1', r: 'req-1' };
  const job = renderRowsJob(body.batch.map((e) => ({ req, e }) as AcceptedEvent), 7);
  stage('renderRowsJob');
  const inline = JSON.stringify(job);
  stage("Bull's JSON of the job, rows inside");
  const { rows, ...beside } = job;
  const json = JSON.stringify(beside);
  stage("Bull's JSON of the job, rows beside");
  add('(bytes: body)', text.length);
  add('(bytes: rows)', rows.length);
  add('(bytes: job JSON, rows inside)', inline.length);
  add('(bytes: job JSON, rows beside)', json.length);
}
for (const [k, v] of Object.entries(totals)) console.log(k.padEnd(38), `${Math.round(v / ROUNDS / 1024)} KB per request`);
