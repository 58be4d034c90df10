// Bull 4 members Sluice relies on that bull's own typings leave out. Each is pinned by
// test/integration/bull-internals.spec.ts, so an upgrade that changes one fails loudly.
declare module 'bull' {
  interface Queue {
    /** Set by Queue#close(): the promise of the close under way. */
    closing?: Promise<void>;
    /** The value of every job lock this Queue instance takes (a uuid per instance). */
    token: string;
    /** The Redis key of one of the queue's lists or sets (`active`, `wait`, ...), or with '' the job-key prefix. */
    toKey(queueType: string): string;
    /** The queue's defaultJobOptions, merged under each job's own by Queue#add and #addBulk. */
    defaultJobOptions: JobOptions;
  }
}

export {};
