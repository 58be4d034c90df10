import type { Job, Queue } from 'bull';
import BullJob from 'bull/lib/job';
import bullScripts from 'bull/lib/scripts';
import { randomUUID } from 'node:crypto';
import './bull-internals';
import { isRowsJob, PersistJob, PersistRowsJob } from './queue.constants';

/**
 * A rows job's COPY text travels beside the job's JSON, not inside it: as the field `rows` of the
 * job's own Redis hash (next to Bull's `data`, `opts`, ...). Inside the JSON, Bull's
 * JSON.stringify would escape every quote of it once more at the api and the worker's JSON.parse
 * unescape it again (docs/performance.md, "Rows beside the job"). In the hash it is written and
 * read as it is, it comes to the worker in the same reply as the job (Bull's moveToActive returns
 * the whole hash), and it goes when the job goes: removeOnComplete deletes the hash, the
 * failed-job sweep removes the job, so no key outlives its job and none can be orphaned.
 */
export const ROWS_FIELD = 'rows';

/** One job to add: its name and payload (a rows job's `rows` go to ROWS_FIELD). */
export interface NewJob {
  name: string;
  data: PersistJob;
}

/**
 * Adds the jobs in one MULTI, each with its rows in its hash, and returns their ids (uuids: the
 * id names the hash, so it must be known before the transaction runs). Throws if Redis refused
 * any command in the transaction, so the caller never takes a job for added that is not.
 */
export async function addPersistJobs(queue: Queue<PersistJob>, jobs: NewJob[]): Promise<string[]> {
  await queue.isReady();
  const multi = queue.client.multi();
  const ids: string[] = [];
  const commands: number[] = []; // how many commands each job queued on the MULTI
  for (const { name, data } of jobs) {
    const id = randomUUID();
    let payload: PersistJob | Omit<PersistRowsJob, 'rows'> = data;
    let rows: string | undefined;
    if (isRowsJob(data) && typeof data.rows === 'string') {
      const { rows: text, ...rest } = data;
      payload = rest;
      rows = text;
    }
    // What Queue#addBulk does for each job (defaults, then Job#toData and the addJob script),
    // with the id given and one more command.
    const job = new BullJob(queue, name, payload, { ...queue.defaultJobOptions, jobId: id });
    bullScripts.addJob(multi, queue, job.toData(), { customJobId: id });
    if (rows !== undefined) multi.hset(queue.toKey(id), ROWS_FIELD, rows);
    ids.push(id);
    commands.push(rows === undefined ? 1 : 2);
  }
  const replies = (await multi.exec()) ?? [];
  let at = 0;
  let refused = 0;
  let reason = '';
  for (let j = 0; j < jobs.length; j++) {
    const mine = replies.slice(at, at + commands[j]);
    at += commands[j];
    // addJob answers the job's id; any error, or a missing reply, and the job is not added.
    const err = mine.find(([e]) => e)?.[0];
    if (err || mine.length < commands[j] || String(mine[0][1]) !== ids[j]) {
      refused++;
      reason ||= err?.message ?? 'no reply';
    }
  }
  if (refused > 0) throw new Error(`Redis refused ${refused} of ${jobs.length} job(s) in the transaction: ${reason}`);
  return ids;
}

let installed = false;
/**
 * Puts a rows job's ROWS_FIELD back into its `data.rows` wherever Bull builds a job from its hash
 * (the worker's next job, Queue#getJob, #getFailed, ...), so the rest of Sluice sees one shape.
 * Pinned by test/integration/bull-internals.spec.ts.
 */
export function installRowsField(): void {
  if (installed) return;
  installed = true;
  const fromJSON = BullJob.fromJSON;
  BullJob.fromJSON = function (queue: Queue, json: Record<string, string>, jobId?: string | number): Job {
    const job = fromJSON.call(this, queue, json, jobId);
    const rows = json?.[ROWS_FIELD];
    const data = job.data as PersistJob | undefined;
    if (typeof rows === 'string' && data && typeof data === 'object' && isRowsJob(data) && data.rows === undefined) data.rows = rows;
    return job;
  };
}
installRowsField();
