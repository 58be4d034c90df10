import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config';
import { storableJson } from '../domain/events/storable-text';
import { MetricsService } from '../metrics/metrics.service';
import type { Judgement } from './plan-registry.service';
import { ViolationCount, ViolationsRepository } from './violations.repository';

const FLUSH_MS = 5000;
// Past this many distinct groups in one interval, new groups are only counted in metrics until
// the next flush: a flood of distinct event names cannot grow the api's memory.
const MAX_GROUPS = 10_000;
const MAX_SAMPLE_BYTES = 16_384;

/**
 * Counts violations in the api's memory and adds them to violation_counts_hourly every 5 s in
 * one statement, off the request path. A crash loses at most the last interval's counts (the
 * events themselves are stored, flagged or quarantined as their mode says).
 */
@Injectable()
export class ViolationsRecorder implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ViolationsRecorder.name);
  private pending = new Map<string, ViolationCount>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly repo: ViolationsRepository,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    if (this.config.servesApi) this.timer = setInterval(() => void this.flush(), FLUSH_MS).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  record(sourceId: string, event: Record<string, unknown>, j: Judgement, now: number): void {
    const hour = new Date(now - (now % 3_600_000)).toISOString();
    const eventType = String(event.type);
    const name = eventType === 'track' ? String(event.event) : '';
    const seen = new Set<string>();
    for (const v of j.violations) {
      this.metrics.planViolations.inc({ action: j.action, type: v.type });
      const key = [sourceId, hour, eventType, name, v.type, v.keyword, v.instancePath, j.action].join('\u0000');
      if (seen.has(key)) continue; // one event counts once per group
      seen.add(key);
      const row = this.pending.get(key);
      if (row) row.n++;
      else if (this.pending.size < MAX_GROUPS) {
        this.pending.set(key, {
          source_id: sourceId, hour, event_type: eventType, event: name.slice(0, 1024), violation: v.type, keyword: v.keyword,
          instance_path: v.instancePath.slice(0, 1024), action: j.action, n: 1, message: v.message.slice(0, 2000), sample: sample(event),
        });
      }
    }
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const rows = [...this.pending.values()];
    this.pending = new Map();
    try {
      await this.repo.add(rows);
    } catch (err) {
      this.logger.warn(`${rows.length} violation count(s) not written: ${(err as Error).message}`);
    }
  }
}

function sample(event: Record<string, unknown>): string {
  const json = storableJson(event);
  return json.length <= MAX_SAMPLE_BYTES ? json : storableJson({ truncated: true, type: event.type, event: event.event, messageId: event.messageId });
}
