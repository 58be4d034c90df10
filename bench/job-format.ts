/**
 * `npx ts-node --transpile-only bench/job-format.ts`: the CPU each job format costs per event, in
 * one process, the two formats interleaved (so machine noise hits both alike). api: what the
 * producer does per job plus Bull's JSON.stringify of it; worker: Bull's JSON.parse of the job
 * plus whatever turns it into the COPY text.
 */
import { copyLine } from '../src/domain/events/copy-format';
import { toEventRow } from '../src/domain/events/enrichment';
import { renderRowsJob } from '../src/domain/events/rows-job';
import { AcceptedEvent, JobRequest, packJob, PersistEventsJob, PersistRowsJob, unpackJob } from '../src/queue/queue.constants';
import { sdkEvent } from './lib/events';

const N = 350; // events per job, as measured in `batch`
const ROUNDS = Number(process.argv[2] ?? 400);
const now = Date.now();
const req: JobRequest = { s: '22222222-2222-4222-8222-222222222222', t: new Date(now).toISOString(), ip: '10.0.0.1', r: 'req-1' };
const fresh = (): AcceptedEvent[] => Array.from({ length: N }, (_, i) => ({ req, e: JSON.parse(JSON.stringify(sdkEvent(i, now))) }));

const variants = {
  'format 1 (events as JSON)': {
    api: (ev: AcceptedEvent[]) => JSON.stringify(packJob(ev)),
    worker: (s: string) => {
      const rows = unpackJob(JSON.parse(s) as PersistEventsJob).map((q) => toEventRow(q, 7));
      let payload = '';
      for (let i = 0; i < rows.length; i++) payload += copyLine(rows[i], i);
      return payload.length;
    },
  },
  'format 2 (rows)': {
    api: (ev: AcceptedEvent[]) => JSON.stringify(renderRowsJob(ev, 7)),
    worker: (s: string) => (JSON.parse(s) as PersistRowsJob).rows.length,
  },
  // The rows as base64 inside the job: nothing for JSON to escape or unescape, bytes 4/3 of UTF-8.
  'format 2, rows in base64': {
    api: (ev: AcceptedEvent[]) => {
      const { rows, ...rest } = renderRowsJob(ev, 7);
      return JSON.stringify({ ...rest, rows64: Buffer.from(rows).toString('base64') });
    },
    worker: (s: string) => Buffer.from((JSON.parse(s) as { rows64: string }).rows64, 'base64').toString().length,
  },
};

const totals: Record<string, { api: bigint; worker: bigint; bytes: number }> = {};
for (const name of Object.keys(variants)) totals[name] = { api: 0n, worker: 0n, bytes: 0 };
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, v] of Object.entries(variants)) {
    const ev = fresh();
    const t0 = process.hrtime.bigint();
    const wire = v.api(ev);
    const t1 = process.hrtime.bigint();
    v.worker(wire);
    const t2 = process.hrtime.bigint();
    if (r >= ROUNDS / 4) {
      // the first quarter warms up the JIT
      totals[name].api += t1 - t0;
      totals[name].worker += t2 - t1;
      totals[name].bytes = wire.length;
    }
  }
}
const counted = ((ROUNDS * 3) / 4) * N;
for (const [name, t] of Object.entries(totals)) {
  console.log(`${name}: api ${(Number(t.api) / 1000 / counted).toFixed(2)} µs/event, worker ${(Number(t.worker) / 1000 / counted).toFixed(2)} µs/event, job ${Math.round(t.bytes / N)} bytes/event`);
}
