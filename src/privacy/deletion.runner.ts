import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config';
import { MetricsService } from '../metrics/metrics.service';
import { DeletionRow, DeletionsRepository, DeletionSubject, EMPTY_REMOVED, Removed } from './deletions.repository';
import { ExportRepository } from './export.repository';

const POLL_MS = 1000;
const LEASE_MS = 60_000;
const HEARTBEAT_MS = 10_000;
// Passes over the partitions: a later pass catches rows that arrived during the first (a person
// still sending, unsuppressed); after these the record says what remains.
const MAX_PASSES = 3;

/**
 * The worker side of deletion requests: claims one at a time (a lease another worker takes over
 * if this one dies), finds the anonymousIds linked to a userId, removes the person's rows
 * partition by partition in batches (events, their dedup claims, their share of the rollups),
 * then their dead letters, re-checks that nothing remains and writes the verification record.
 * Every step can run again: a resumed request removes what is left and counts only that.
 */
@Injectable()
export class DeletionRunner implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DeletionRunner.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopping = false;

  constructor(
    private readonly repo: DeletionsRepository,
    private readonly links: ExportRepository,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), POLL_MS).unref();
    this.metrics.onCollect(async () => {
      this.metrics.privacyDeletionsOpen.set(await this.repo.open().catch(() => 0));
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Runs the next request if one is waiting and this worker is idle; resolves when it is done. */
  async tick(): Promise<void> {
    if (this.running || this.stopping) return this.running;
    this.running = (async () => {
      try {
        for (let row = await this.repo.claim(LEASE_MS); row && !this.stopping; row = await this.repo.claim(LEASE_MS)) await this.run(row);
      } catch (err) {
        this.logger.warn(`deletion requests not claimed (will retry): ${(err as Error).message}`);
      }
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(row: DeletionRow): Promise<void> {
    let lost = false;
    const heartbeat = setInterval(() => {
      void this.repo.heartbeat(row.id, LEASE_MS, {}).then((ok) => (lost ||= !ok), () => undefined);
    }, HEARTBEAT_MS).unref();
    const started = Date.now();
    try {
      const subject = await this.subject(row);
      let remaining = { events: 0, dead_letters: 0, violation_samples: 0 };
      let pass = 1;
      for (; pass <= MAX_PASSES; pass++) {
        const partitions = await this.repo.partitions();
        for (let i = 0; i < partitions.length; i++) {
          const { removed, stopped } = await this.repo.deletePartition(partitions[i], subject, row.source_ids, this.config.lifecycle.batchRows, row.id, async () => {
            return !this.stopping && !lost;
          });
          this.count(removed);
          if (stopped) throw new Error(this.stopping ? 'the worker shut down; another worker continues' : 'the lease was lost to another worker');
          lost ||= !(await this.repo.heartbeat(row.id, LEASE_MS, { pass, partitionsTotal: partitions.length, partitionsDone: i + 1 }));
        }
        this.count({ ...EMPTY_REMOVED, ...(await this.repo.deleteDeadLetters(row.id, subject, row.source_ids)) });
        remaining = await this.repo.remaining(subject, row.source_ids);
        if (remaining.events + remaining.dead_letters + remaining.violation_samples === 0) break;
      }
      const done = (await this.repo.get(row.id))!;
      const verified = remaining.events + remaining.dead_letters + remaining.violation_samples === 0;
      const finished = await this.repo.finish(row.id, {
        identity: { kind: row.identity_kind, sha256: row.identity_hash },
        sourceIds: row.source_ids,
        linkedAnonymousIds: row.identity_kind === 'userId' ? subject.anonymousIds.length : 0,
        removed: done.progress.removed ?? EMPTY_REMOVED,
        remaining,
        verified,
        passes: Math.min(pass, MAX_PASSES),
        checkedAt: new Date().toISOString(),
        note: verified
          ? 'Re-checked after the deletion: no event, no dead letter and no violation sample of this person remains.'
          : 'Rows of this person remain: events kept arriving during the deletion. Suppress the person and request the deletion again.',
      });
      if (finished) {
        this.metrics.privacyDeletions.inc({ outcome: verified ? 'verified' : 'unverified' });
        this.logger.log(`deletion ${row.id} done in ${Date.now() - started} ms: ${JSON.stringify(done.progress.removed)}${verified ? '' : ` (remaining ${JSON.stringify(remaining)})`}`);
      }
    } catch (err) {
      const message = (err as Error).message;
      this.metrics.privacyDeletions.inc({ outcome: 'retried' });
      this.logger.warn(`deletion ${row.id} interrupted (attempt ${row.attempts}; will continue): ${message}`);
      await this.repo.release(row.id, message, this.stopping ? 0 : Math.min(60_000, 1000 * 2 ** Math.min(row.attempts, 6))).catch(() => undefined);
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** The userId and the anonymousIds linked to it, found once and kept for every later attempt. */
  private async subject(row: DeletionRow): Promise<DeletionSubject> {
    const subject = row.subject!;
    if (row.identity_kind === 'anonymousId' || row.progress.linkedAnonymousIds !== undefined) return subject;
    const linked = await this.links.linkedAnonymousIds(subject.userId!, row.source_ids ?? undefined);
    const found: DeletionSubject = { userId: subject.userId, anonymousIds: linked };
    await this.repo.setSubject(row.id, found);
    await this.repo.heartbeat(row.id, LEASE_MS, { linkedAnonymousIds: linked.length });
    return found;
  }

  private count(removed: Removed): void {
    for (const [table, n] of Object.entries(removed)) if (n > 0) this.metrics.privacyDeletedRows.inc({ table }, n);
  }
}
