// Bull's Job class and Lua script wrappers, which bull's typings leave out: Sluice adds a job
// with its rows in one MULTI (src/queue/job-rows.ts). Pinned by test/integration/bull-internals.spec.ts.
declare module 'bull/lib/job' {
  import type { Job, JobOptions, Queue } from 'bull';
  interface BullJobClass {
    new (queue: Queue, name: string, data: unknown, opts: JobOptions): { toData(): Record<string, unknown> };
    fromJSON(this: unknown, queue: Queue, json: Record<string, string>, jobId?: string | number): Job;
  }
  const BullJob: BullJobClass;
  export default BullJob;
}

declare module 'bull/lib/scripts' {
  import type { Queue } from 'bull';
  const scripts: {
    /** Queues the addJob script on `client` (a connection or a MULTI). */
    addJob(client: unknown, queue: Queue, jobData: Record<string, unknown>, opts: { customJobId?: string; lifo?: boolean; priority?: number }): unknown;
  };
  export default scripts;
}
