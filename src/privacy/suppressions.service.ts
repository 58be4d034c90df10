import { Injectable, Logger, NotFoundException, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Actor } from '../audit/actor';
import { AuditRepository } from '../audit/audit.repository';
import { MetricsService } from '../metrics/metrics.service';
import { SuppressionRow, SuppressionsRepository } from './suppressions.repository';

/** How often every api reloads the active suppressions: a new one reaches every replica within this (and a little). */
export const SUPPRESSION_REFRESH_MS = 2000;

/** What the audit log keeps of a person: a hash of the identifier, never the identifier. */
export const identityHash = (kind: string, id: string) => createHash('sha256').update(`${kind}:${id}`).digest('hex');

/**
 * The people whose future events ingestion drops. Each api keeps the active suppressions in
 * memory (looked up per event without a query) and reloads them every SUPPRESSION_REFRESH_MS,
 * so one created on any replica is enforced on all within a few seconds; through a database
 * outage the last list stays in force.
 */
@Injectable()
export class SuppressionsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SuppressionsService.name);
  /** `u:<userId>` / `a:<anonymousId>` → the sources it applies to (null: all). */
  private active = new Map<string, Set<string> | null>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly repo: SuppressionsRepository,
    private readonly audit: AuditRepository,
    private readonly metrics: MetricsService,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), SUPPRESSION_REFRESH_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    try {
      const next = new Map<string, Set<string> | null>();
      for (const s of await this.repo.active()) {
        const key = s.user_id !== null ? `u:${s.user_id}` : `a:${s.anonymous_id}`;
        const prev = next.get(key);
        if (prev === null || s.source_ids === null) next.set(key, null);
        else next.set(key, new Set([...(prev ?? []), ...s.source_ids]));
      }
      this.active = next;
    } catch (err) {
      this.logger.debug(`suppressions not reloaded (the last list stays in force): ${(err as Error).message}`);
    }
  }

  /** Whether an event of this source from this person is to be dropped. */
  isSuppressed(sourceId: string, userId: unknown, anonymousId: unknown): boolean {
    if (this.active.size === 0) return false;
    for (const key of [typeof userId === 'string' ? `u:${userId}` : null, typeof anonymousId === 'string' ? `a:${anonymousId}` : null]) {
      if (key === null || !this.active.has(key)) continue;
      const sources = this.active.get(key);
      if (sources === null || sources!.has(sourceId)) return true;
    }
    return false;
  }

  countDropped(n: number): void {
    if (n > 0) this.metrics.eventsSuppressed.inc(n);
  }

  async create(who: { userId?: string; anonymousId?: string }, sourceIds: string[] | null, actor: Actor): Promise<SuppressionRow> {
    const row = await this.repo.transaction(async (m) => {
      const created = await this.repo.create(m, who, sourceIds);
      await this.audit.append({ ...actor, action: 'privacy.suppress', targetType: 'suppression', targetId: created.id, change: { identity: identityHash(who.userId !== undefined ? 'userId' : 'anonymousId', (who.userId ?? who.anonymousId)!), sourceIds } }, m);
      return created;
    });
    await this.refresh();
    return row;
  }

  list(includeLifted: boolean): Promise<SuppressionRow[]> {
    return this.repo.list(includeLifted);
  }

  async lift(id: string, actor: Actor): Promise<SuppressionRow> {
    const row = await this.repo.transaction(async (m) => {
      const lifted = await this.repo.lift(m, id);
      if (!lifted) throw new NotFoundException(`No suppression with id ${id}.`);
      await this.audit.append({ ...actor, action: 'privacy.lift_suppression', targetType: 'suppression', targetId: id, change: {} }, m);
      return lifted;
    });
    await this.refresh();
    return row;
  }
}
