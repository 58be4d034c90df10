import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config';
import { retentionCutoff } from '../domain/events/timestamps';
import { MetricsService } from '../metrics/metrics.service';
import { RetentionRepository } from './retention.repository';

/** Rows removed by one run, per table; partitions dropped; the cutoffs applied. */
export interface RetentionReport {
  cutoff: string;
  partitionsDropped: string[];
  removed: { events: number; event_dedup: number; event_counts_hourly: number; event_users_daily: number; event_uniques_daily: number; violation_counts_hourly: number; dead_letters: number };
  sources: { sourceId: string; retentionDays: number; cutoff: string; events: number }[];
}

// Longest wait for the exclusive lock DROP TABLE needs on `events`: ingestion queues behind the
// waiting DROP, so this bounds the stall it can cause.
const DROP_LOCK_TIMEOUT_MS = 1000;

/**
 * One pass of retention (the worker schedules it; `retention:run` runs it now):
 * 1. every daily partition wholly before the global cutoff is dropped, its dedup claims first;
 * 2. rows of the default partition before the cutoff are deleted in batches;
 * 3. the rollups of the days before the cutoff are deleted, and dead letters that arrived before it;
 * 4. each source that keeps fewer days loses its older rows, batch by batch, partition by
 *    partition, with their dedup claims, then its rollups of those days.
 * Cutoffs are whole UTC days (the start of the day holding now - days), so a rollup day is either
 * kept or removed whole. Every step can run again after a crash.
 */
@Injectable()
export class RetentionService {
  private readonly logger = new Logger(RetentionService.name);

  constructor(
    private readonly repo: RetentionRepository,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  async run(now = Date.now(), keepGoing: () => boolean = () => true): Promise<RetentionReport> {
    const batch = this.config.lifecycle.batchRows;
    const cutoff = retentionCutoff(now, this.config.retentionDays);
    const report: RetentionReport = {
      cutoff: cutoff.toISOString(),
      partitionsDropped: [],
      removed: { events: 0, event_dedup: 0, event_counts_hourly: 0, event_users_daily: 0, event_uniques_daily: 0, violation_counts_hourly: 0, dead_letters: 0 },
      sources: [],
    };
    const add = (part: Partial<RetentionReport['removed']>) => {
      for (const [table, n] of Object.entries(part) as [keyof RetentionReport['removed'], number][]) {
        report.removed[table] += n;
        if (n > 0) this.metrics.retentionRemovedRows.inc({ table }, n);
      }
    };
    const stopIfAsked = () => {
      if (!keepGoing()) throw new Error('retention stopped: the worker is shutting down or lost its lease');
    };

    const partitions = await this.repo.partitions();
    for (const p of partitions) {
      if (p.to === null || p.to.getTime() > cutoff.getTime()) continue;
      stopIfAsked();
      add(await this.repo.dropPartition(p, cutoff, batch, DROP_LOCK_TIMEOUT_MS));
      report.partitionsDropped.push(p.name);
      this.metrics.retentionPartitionsDropped.inc();
    }
    const byDefault = partitions.find((p) => p.from === null);
    if (byDefault) add(await this.repo.deleteOlder(byDefault.name, cutoff, null, batch));
    add(await this.repo.deleteRollups(cutoff, null));
    add({ dead_letters: await this.repo.deleteDeadLetters(cutoff, batch) });

    for (const s of await this.repo.shorterRetention(this.config.retentionDays)) {
      const own = retentionCutoff(now, s.retention_days);
      let events = 0;
      for (const p of await this.repo.partitions()) {
        if (p.from !== null && p.from.getTime() >= own.getTime()) continue; // nothing in it is that old
        stopIfAsked();
        const r = await this.repo.deleteOlder(p.name, own, s.id, batch);
        events += r.events;
        add(r);
      }
      add(await this.repo.deleteRollups(own, s.id));
      report.sources.push({ sourceId: s.id, retentionDays: s.retention_days, cutoff: own.toISOString(), events });
    }
    if (report.partitionsDropped.length || report.removed.events || report.removed.dead_letters) {
      this.logger.log(`retention: dropped ${report.partitionsDropped.length} partition(s) before ${report.cutoff}; removed ${JSON.stringify(report.removed)}`);
    }
    return report;
  }
}
