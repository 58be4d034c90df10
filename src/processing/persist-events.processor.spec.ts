import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { AppConfig } from '../config';
import { currentRequestId } from '../logging/request-context';
import { MetricsService } from '../metrics/metrics.service';
import { JobName, packJob, PersistEventsJob, PersistJob, QueuedEvent } from '../queue/queue.constants';
import { acceptedAgain, parseCopyLine, renderRowsJob, rowLines } from '../domain/events/rows-job';
import { QueueStatsService } from '../queue/queue-stats.service';
import { DeadLetter, DeadLettersRepository } from './dead-letters.repository';
import { EventRow } from '../domain/events/event-columns';
import { EventsRepository } from './events.repository';
import { ProcessHealth } from '../health/process-health';
import { InterruptedError, PersistEventsProcessor } from './persist-events.processor';
import { OrphanedJobs } from '../queue/orphaned-jobs';

const SOURCE = '22222222-2222-4222-8222-222222222222';

const dbError = (code: string, message = `db error ${code}`) =>
  Object.assign(new Error(message), { code });

/** Stands in for EventsRepository: dedups on message_id, refuses any batch holding a poison row. */
class FakeEvents {
  readonly stored = new Map<string, EventRow>();
  readonly calls: string[][] = [];
  readonly requestIds: (string | undefined)[] = [];
  poison = new Set<string>();
  /** Thrown (once per listed call number, 1-based) instead of running the insert. */
  failOnCall = new Map<number, Error>();

  insertDeduplicated(rows: EventRow[]): Promise<number> {
    const ids = rows.map((r) => r.message_id);
    this.calls.push(ids);
    this.requestIds.push(currentRequestId());
    const scheduled = this.failOnCall.get(this.calls.length);
    if (scheduled) return Promise.reject(scheduled);
    const bad = ids.find((id) => this.poison.has(id));
    if (bad)
      return Promise.reject(dbError('22P05', `unsupported Unicode escape sequence in ${bad}`));
    let inserted = 0;
    for (const row of rows) {
      const key = `${row.source_id}/${row.message_id}`;
      if (this.stored.has(key)) continue;
      this.stored.set(key, row);
      inserted++;
    }
    return Promise.resolve(inserted);
  }

  /** A rows job's lines, parsed back, take the same path (the real one streams them to COPY). */
  insertCopyLines(payload: string, count: number): Promise<number> {
    const lines = rowLines(payload);
    expect(lines).toHaveLength(count);
    return this.insertDeduplicated(lines.map((l) => parseCopyLine(l).row));
  }

  readonly partitionDays: string[][] = [];
  ensurePartitionsFor(days: string[]): Promise<number> {
    this.partitionDays.push(days);
    return Promise.resolve(days.length);
  }

  storedIds(): string[] {
    return [...this.stored.values()].map((r) => r.message_id).sort();
  }
}

class FakeDeadLetters {
  readonly calls: {
    letters: DeadLetter[];
    jobId: string | number | undefined;
    attempts: number;
  }[] = [];
  fail: Error | null = null;

  insert(
    letters: DeadLetter[],
    jobId: string | number | undefined,
    attempts: number,
  ): Promise<number> {
    if (this.fail) return Promise.reject(this.fail);
    this.calls.push({ letters, jobId, attempts });
    return Promise.resolve(letters.length);
  }

  letters(): DeadLetter[] {
    return this.calls.flatMap((c) => c.letters);
  }
}

class FakeStats {
  readonly adjustments: number[] = [];
  adjustBacklog(delta: number): void {
    this.adjustments.push(delta);
  }
}

class FakeQueue {
  closing?: Promise<void>;
  readonly client = Object.assign(new EventEmitter(), { status: 'ready' });
  setWorkerName = () => Promise.resolve();
  readonly on = jest.fn();
  readonly process = jest.fn(
    (
      _name: string,
      _concurrency: number,
      _handler: (job: Job<PersistJob>) => Promise<unknown>,
    ) => Promise.resolve(),
  );
}

function event(id: string, extra: Partial<QueuedEvent> = {}): QueuedEvent {
  return {
    s: SOURCE,
    t: '2024-05-01T12:00:00.000Z',
    r: `req-${id}`,
    e: { type: 'track', messageId: id, userId: 'u', event: 'E' },
    ...extra,
  };
}

const events = (n: number, prefix = 'm') =>
  Array.from({ length: n }, (_, i) => event(`${prefix}${i}`));

function job(
  evts: QueuedEvent[],
  attemptsMade: number,
  attempts: number | null = 3,
  id: string | number = 'job-1',
) {
  const opts = attempts === null ? {} : { attempts };
  // The format the api writes: rows rendered once (renderRowsJob).
  const data = renderRowsJob(acceptedAgain(evts), 7);
  return { id, data, opts, attemptsMade } as unknown as Job<PersistJob>;
}

/** A job as an api before rows jobs queued it (format 1: the events as JSON). */
function eventsJob(evts: QueuedEvent[], attemptsMade = 0, id = 'job-v1') {
  const data: PersistEventsJob = packJob(evts.map((q) => ({ req: { s: q.s, t: q.t, ip: q.ip, r: q.r }, e: q.e })));
  return { id, data, opts: { attempts: 3 }, attemptsMade } as unknown as Job<PersistJob>;
}

async function counter(c: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await c.get()).values.reduce((sum, v) => sum + v.value, 0);
}

describe('PersistEventsProcessor', () => {
  let fakeEvents: FakeEvents;
  let deadLetters: FakeDeadLetters;
  let stats: FakeStats;
  let queue: FakeQueue;
  let metrics: MetricsService;
  let processor: PersistEventsProcessor;
  let orphaned: { recover: jest.Mock };
  const config = { worker: { attempts: 5, concurrency: 3, partitionDaysAhead: 7, outageMaxBackoffMs: 20 }, retentionDays: 36500 } as unknown as AppConfig;

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    fakeEvents = new FakeEvents();
    deadLetters = new FakeDeadLetters();
    stats = new FakeStats();
    queue = new FakeQueue();
    metrics = new MetricsService();
    orphaned = { recover: jest.fn(async () => ['j7']) };
    processor = new PersistEventsProcessor(
      queue as unknown as Queue<PersistJob>,
      fakeEvents as unknown as EventsRepository,
      deadLetters as unknown as DeadLettersRepository,
      metrics,
      stats as unknown as QueueStatsService,
      new ProcessHealth(),
      config,
      orphaned as unknown as OrphanedJobs,
    );
  });

  afterEach(() => jest.restoreAllMocks());

  describe('persist', () => {
    it('inserts a clean batch in one statement', async () => {
      const outcome = await processor.persist(events(4));
      expect(outcome).toEqual({ inserted: 4, deduplicated: 0, deadLettered: 0 });
      expect(fakeEvents.calls).toEqual([['m0', 'm1', 'm2', 'm3']]);
      expect(deadLetters.calls).toHaveLength(0);
    });

    it('writes enriched rows', async () => {
      await processor.persist([event('a', { ip: '10.1.2.3' })]);
      const row = fakeEvents.stored.get(`${SOURCE}/a`)!;
      expect(row).toMatchObject({
        source_id: SOURCE,
        message_id: 'a',
        type: 'track',
        context: { ip: '10.1.2.3' },
      });
    });

    it('does nothing for an empty batch', async () => {
      expect(await processor.persist([])).toEqual({
        inserted: 0,
        deduplicated: 0,
        deadLettered: 0,
      });
      expect(fakeEvents.calls).toHaveLength(0);
      expect(deadLetters.calls).toHaveLength(0);
    });

    it('counts events already stored as deduplicated', async () => {
      await processor.persist([event('m0'), event('m1')]);
      const outcome = await processor.persist(events(5));
      expect(outcome).toEqual({ inserted: 3, deduplicated: 2, deadLettered: 0 });
    });

    it('isolates a poison row by bisection: only it is dead-lettered, the rest are inserted', async () => {
      const batch = events(8);
      fakeEvents.poison.add('m5');
      const outcome = await processor.persist(batch, 'job-7', 2);
      expect(outcome).toEqual({ inserted: 7, deduplicated: 0, deadLettered: 1 });
      expect(fakeEvents.storedIds()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm6', 'm7']);
      expect(deadLetters.calls).toHaveLength(1);
      expect(deadLetters.calls[0].jobId).toBe('job-7');
      expect(deadLetters.calls[0].attempts).toBe(2);
      const [letter] = deadLetters.calls[0].letters;
      expect(letter.event).toEqual(batch[5]);
      expect(letter.reason).toMatch(/^rejected by PostgreSQL: .*m5/);
      // Bisection, not row by row: far fewer statements than a retry per event would need.
      expect(fakeEvents.calls.length).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(8)));
    });

    it('isolates several poison rows in different halves', async () => {
      fakeEvents.poison = new Set(['m0', 'm6', 'm9']);
      const outcome = await processor.persist(events(10));
      expect(outcome).toEqual({ inserted: 7, deduplicated: 0, deadLettered: 3 });
      expect(
        deadLetters
          .letters()
          .map((l) => l.event.e.messageId)
          .sort(),
      ).toEqual(['m0', 'm6', 'm9']);
      expect(fakeEvents.storedIds()).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm7', 'm8']);
    });

    it('dead-letters a lone poison event', async () => {
      fakeEvents.poison.add('only');
      const outcome = await processor.persist([event('only')]);
      expect(outcome).toEqual({ inserted: 0, deduplicated: 0, deadLettered: 1 });
      expect(fakeEvents.stored.size).toBe(0);
    });

    it('keeps the counts right with a poison row and duplicates together', async () => {
      await processor.persist([event('m1'), event('m2')]);
      fakeEvents.poison.add('m3');
      const outcome = await processor.persist(events(6));
      expect(outcome).toEqual({ inserted: 3, deduplicated: 2, deadLettered: 1 });
    });

    it('dead-letters an event that cannot be enriched and stores the others', async () => {
      const broken = event('bad', { t: 'not a date' });
      const outcome = await processor.persist([event('ok1'), broken, event('ok2')]);
      expect(outcome).toEqual({ inserted: 2, deduplicated: 0, deadLettered: 1 });
      expect(fakeEvents.calls).toEqual([['ok1', 'ok2']]);
      expect(deadLetters.letters()).toHaveLength(1);
      expect(deadLetters.letters()[0].event).toEqual(broken);
      expect(deadLetters.letters()[0].reason).toMatch(/^enrichment failed: /);
    });

    it('rethrows a transient error without dead-lettering anything', async () => {
      fakeEvents.failOnCall.set(1, dbError('40P01', 'deadlock detected'));
      await expect(processor.persist(events(4))).rejects.toMatchObject({ code: '40P01' });
      expect(deadLetters.calls).toHaveLength(0);
      expect(fakeEvents.calls).toHaveLength(1); // no bisection for a transient error
    });

    it('rethrows a transient error that strikes in the middle of a bisection', async () => {
      fakeEvents.poison.add('m1');
      fakeEvents.failOnCall.set(2, dbError('40P01', 'deadlock detected'));
      await expect(processor.persist(events(4))).rejects.toMatchObject({ code: '40P01' });
      expect(deadLetters.calls).toHaveLength(0);
    });

    it('rethrows an error without a code as transient', async () => {
      fakeEvents.failOnCall.set(1, new Error('something unexpected'));
      await expect(processor.persist(events(2))).rejects.toThrow('something unexpected');
    });

    it('asks for the daily partition of each day its rows fall on, once per process', async () => {
      const now = Date.now();
      const day = (d: number) => new Date(now - d * 86_400_000).toISOString();
      const at = (id: string, ts: string) => event(id, { t: new Date(now).toISOString(), e: { type: 'track', messageId: id, userId: 'u', event: 'E', timestamp: ts } });
      await processor.persist([at('a', day(40)), at('b', day(40)), at('c', day(3))]);
      await processor.persist([at('d', day(40)), at('e', day(0))]);
      expect(fakeEvents.partitionDays).toEqual([[day(40).slice(0, 10), day(3).slice(0, 10)].sort(), [day(0).slice(0, 10)]].map((d) => expect.arrayContaining(d)));
    });
  });

  describe('handle', () => {
    it('streams a rows job without parsing it, and isolates a poison row: only it is dead-lettered, as the event it came from', async () => {
      const batch = [...events(6), event('bad', { ip: '10.9.9.9', e: { type: 'track', messageId: 'bad', event: 'E', properties: { tab: 'a\tb' } } }), ...events(3, 'n')];
      fakeEvents.poison.add('bad');
      const outcome = await processor.handle(job(batch, 0, 3, 'j-rows'));
      expect(outcome).toEqual({ inserted: 9, deduplicated: 0, deadLettered: 1 });
      expect(fakeEvents.calls[0]).toHaveLength(10); // the whole job first, in one COPY
      const [letter] = deadLetters.letters();
      expect(letter.code).toBe('rejected_by_postgres');
      expect(letter.event).toEqual({ s: SOURCE, t: '2024-05-01T12:00:00.000Z', r: 'req-bad', e: { type: 'track', messageId: 'bad', event: 'E', properties: { tab: 'a\tb' }, context: { ip: '10.9.9.9' } } });
    });

    it('dead-letters the quarantined events a rows job carries, and stores the rest', async () => {
      const verdict = { a: 'quarantine' as const, p: 'plan@1', v: [{ type: 'track', keyword: 'enum', instancePath: '/event', message: 'must be allowed' }] };
      const outcome = await processor.handle(job([event('ok'), event('q', { v: verdict })], 0));
      expect(outcome).toEqual({ inserted: 1, deduplicated: 0, deadLettered: 1 });
      expect(deadLetters.letters()).toEqual([expect.objectContaining({ code: 'schema_violation', event: expect.objectContaining({ r: 'req-q', v: verdict }) })]);
      expect(stats.adjustments).toEqual([-2]);
    });

    it('still stores a job of format 1 (the events as JSON, queued by an older api)', async () => {
      const outcome = await processor.handle(eventsJob([event('old-1', { ip: '10.0.0.2' }), event('old-2')]));
      expect(outcome).toEqual({ inserted: 2, deduplicated: 0, deadLettered: 0 });
      expect(fakeEvents.stored.get(`${SOURCE}/old-1`)?.context).toEqual({ ip: '10.0.0.2' });
    });

    it('persists, adjusts the backlog and counts the outcome', async () => {
      const before = {
        persisted: await counter(metrics.eventsPersisted),
        dedup: await counter(metrics.eventsDeduplicated),
        dead: await counter(metrics.eventsDeadLettered),
      };
      await processor.persist([event('m0')]);
      fakeEvents.poison.add('m2');
      const outcome = await processor.handle(job(events(4), 0));
      expect(outcome).toEqual({ inserted: 2, deduplicated: 1, deadLettered: 1 });
      expect(stats.adjustments).toEqual([-4]);
      expect((await counter(metrics.eventsPersisted)) - before.persisted).toBe(2);
      expect((await counter(metrics.eventsDeduplicated)) - before.dedup).toBe(1);
      expect((await counter(metrics.eventsDeadLettered)) - before.dead).toBe(1);
    });

    it('passes the job id and attempt number to the dead letters', async () => {
      fakeEvents.poison.add('m0');
      await processor.handle(job(events(2), 1, 3, 42));
      expect(deadLetters.calls[0]).toMatchObject({ jobId: 42, attempts: 2 });
    });

    it('runs with the request ids of its events as the log context', async () => {
      await processor.handle(job([event('a'), event('b'), event('c', { r: 'req-a' })], 0));
      expect(fakeEvents.requestIds).toEqual(['req-a,req-b']);
    });

    it('falls back to the job id as the log context when events carry no request id', async () => {
      await processor.handle(job([event('a', { r: undefined })], 0, 3, 9));
      expect(fakeEvents.requestIds).toEqual(['job-9']);
    });

    it('rethrows a transient error on a non-final attempt, leaving the backlog alone', async () => {
      fakeEvents.failOnCall.set(1, dbError('40P01'));
      const before = await counter(metrics.eventsPersisted);
      await expect(processor.handle(job(events(3), 1, 3))).rejects.toMatchObject({ code: '40P01' });
      expect(deadLetters.calls).toHaveLength(0);
      expect(stats.adjustments).toEqual([]);
      expect(await counter(metrics.eventsPersisted)).toBe(before);
    });

    it('dead-letters every event on the final attempt and does not throw', async () => {
      const batch = events(3);
      fakeEvents.failOnCall.set(1, dbError('40001', 'could not serialize access'));
      const beforeDead = await counter(metrics.eventsDeadLettered);
      const outcome = await processor.handle(job(batch, 2, 3, 'j-final'));
      expect(outcome).toEqual({ inserted: 0, deduplicated: 0, deadLettered: 3 });
      expect(deadLetters.calls).toHaveLength(1);
      expect(deadLetters.calls[0].jobId).toBe('j-final');
      expect(deadLetters.calls[0].attempts).toBe(3);
      expect(deadLetters.calls[0].letters.map((l) => l.event)).toEqual(batch.map((q) => ({ ...q, ip: undefined })));
      for (const l of deadLetters.calls[0].letters)
        expect(l).toMatchObject({ code: 'retries_exhausted', reason: 'failed after 3 attempts: could not serialize access' });
      expect(stats.adjustments).toEqual([-3]);
      expect((await counter(metrics.eventsDeadLettered)) - beforeDead).toBe(3);
    });

    it('takes the attempt limit from config when the job does not carry one', async () => {
      fakeEvents.failOnCall.set(1, dbError('40P01'));
      fakeEvents.failOnCall.set(2, dbError('40P01'));
      // config.worker.attempts is 5: attempt 4 still retries, attempt 5 is the last.
      await expect(processor.handle(job(events(1), 3, null))).rejects.toMatchObject({
        code: '40P01',
      });
      await expect(processor.handle(job(events(1), 4, null))).resolves.toEqual({
        inserted: 0,
        deduplicated: 0,
        deadLettered: 1,
      });
    });

    it('holds a job through a database outage, however long, without using an attempt', async () => {
      for (let call = 1; call <= 6; call++) fakeEvents.failOnCall.set(call, dbError(call % 2 ? '57P03' : 'ECONNREFUSED'));
      const gauge = async () => (await metrics.databaseAvailable.get()).values[0].value;
      const handled = processor.handle(job(events(3), 2, 3, 'j-outage')); // the last attempt
      await new Promise((r) => setTimeout(r, 15));
      expect(await gauge()).toBe(0);
      await expect(handled).resolves.toEqual({ inserted: 3, deduplicated: 0, deadLettered: 0 });
      expect(fakeEvents.calls.length).toBe(7);
      expect(deadLetters.calls).toHaveLength(0);
      expect(await gauge()).toBe(1);
    });

    it('gives the job back (InterruptedError) when the worker shuts down during an outage', async () => {
      for (let call = 1; call <= 100; call++) fakeEvents.failOnCall.set(call, dbError('08006'));
      const handled = processor.handle(job(events(2), 0, 3));
      await new Promise((r) => setTimeout(r, 30));
      queue.closing = Promise.resolve();
      await expect(handled).rejects.toBeInstanceOf(InterruptedError);
      expect(deadLetters.calls).toHaveLength(0);
      expect(stats.adjustments).toEqual([]);
    });

    it('dead-letters a data error at once, without retrying the good events beside it', async () => {
      fakeEvents.poison.add('m1');
      const outcome = await processor.handle(job(events(3), 0, 3));
      expect(outcome).toEqual({ inserted: 2, deduplicated: 0, deadLettered: 1 });
      expect(deadLetters.letters().map((l) => [l.event.e.messageId, l.code])).toEqual([['m1', 'rejected_by_postgres']]);
    });

    it('fails the job when even dead-lettering fails on the final attempt', async () => {
      fakeEvents.failOnCall.set(1, dbError('40P01'));
      deadLetters.fail = new Error('dead_letters unavailable');
      await expect(processor.handle(job(events(2), 2, 3))).rejects.toThrow(
        'dead_letters unavailable',
      );
      expect(stats.adjustments).toEqual([]);
    });
  });

  describe('onModuleInit', () => {
    it('registers the persist handler with the configured concurrency', async () => {
      processor.onModuleInit();
      expect(queue.process).toHaveBeenCalledTimes(1);
      const [name, concurrency, handler] = queue.process.mock.calls[0];
      expect(name).toBe(JobName.PersistEvents);
      expect(concurrency).toBe(3);
      await expect(handler(job(events(2), 0))).resolves.toEqual({
        inserted: 2,
        deduplicated: 0,
        deadLettered: 0,
      });
      expect(fakeEvents.storedIds()).toEqual(['m0', 'm1']);
    });

    it('puts orphaned jobs back once the Redis connection returns, sparing the jobs still running', async () => {
      jest.useFakeTimers();
      try {
        processor.onModuleInit();
        const handler = queue.process.mock.calls[0][2];
        let release!: () => void;
        fakeEvents.insertDeduplicated = jest.fn(() => new Promise<number>((resolve) => (release = () => resolve(1))));
        const running = handler(job(events(1), 0, 3, 'j-running'));
        queue.client.emit('ready'); // the first connect is no reconnect
        jest.advanceTimersByTime(5000);
        expect(orphaned.recover).not.toHaveBeenCalled();
        queue.client.emit('close');
        queue.client.emit('ready');
        jest.advanceTimersByTime(999);
        expect(orphaned.recover).not.toHaveBeenCalled(); // resent commands land first
        jest.advanceTimersByTime(1);
        expect(orphaned.recover).toHaveBeenCalledWith(['j-running']);
        await Promise.resolve();
        await Promise.resolve();
        expect(await counter(metrics.jobsOrphaned)).toBe(1);
        release();
        await expect(running).resolves.toMatchObject({ inserted: 1 });
      } finally {
        jest.useRealTimers();
      }
    });
  });
});
