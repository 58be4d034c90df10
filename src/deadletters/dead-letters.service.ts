import { BadRequestException, ConflictException, Injectable, Logger, NotFoundException, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Actor } from '../audit/actor';
import { AuditRepository } from '../audit/audit.repository';
import { storableJson } from '../domain/events/storable-text';
import { IngestService } from '../ingest/ingest.service';
import { MetricsService } from '../metrics/metrics.service';
import { JobRequest, QueuedEvent } from '../queue/queue.constants';
import { DeadLetterFilter, DeadLetterRow, DeadLetterStoreRepository, ReplayRow } from './dead-letter-store.repository';

const BATCH = 500;

export interface ReplayOutcome {
  replayed: string[];
  rejected: { id: string; reason: string; message: string }[];
  /** Not pending (already replayed or discarded), or without a payload that names its source. */
  skipped: string[];
}

/** The queued event a dead letter keeps; null when its text is not one (it is then only discardable). */
function queuedEventOf(row: DeadLetterRow): QueuedEvent | null {
  try {
    const q = JSON.parse(row.payload_text) as QueuedEvent;
    return q && typeof q === 'object' && typeof q.s === 'string' && typeof q.t === 'string' && q.e && typeof q.e === 'object' ? q : null;
  } catch {
    return null;
  }
}

/**
 * Fix, replay and discard dead letters. A replay sends the event back through ingestion
 * (IngestService.resubmit: validated again, queued with its original receive time), so the
 * worker stores it as it would have and its dedup claim keeps it once; if it fails again the
 * worker reopens the letter as pending. Large replays run in the background with progress.
 */
@Injectable()
export class DeadLettersService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(DeadLettersService.name);
  private readonly running = new Set<Promise<void>>();
  private stopping = false;
  private gaugeTimer?: NodeJS.Timeout;

  constructor(
    private readonly store: DeadLetterStoreRepository,
    private readonly ingest: IngestService,
    private readonly audit: AuditRepository,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    // Pending dead letters by reason: every api reports the same numbers (take the max).
    const refresh = () =>
      this.store.pendingByReason().then(
        (rows) => {
          this.metrics.deadLettersPending.reset();
          for (const r of rows) this.metrics.deadLettersPending.set({ reason: r.reason_code }, Number(r.n));
        },
        () => undefined, // the database is down: the gauge keeps its last values
      );
    void refresh();
    this.gaugeTimer = setInterval(refresh, 60_000);
    this.gaugeTimer.unref();
  }

  async get(id: string): Promise<DeadLetterRow> {
    const row = await this.store.get(id);
    if (!row) throw new NotFoundException(`No dead letter with id ${id}.`);
    return row;
  }

  /** Replaces the event of a pending dead letter; the new one must pass ingestion's checks. */
  async fix(id: string, event: unknown, actor: Actor): Promise<DeadLetterRow> {
    const rejection = this.ingest.check(event);
    if (rejection) throw new BadRequestException({ message: `The fixed event is not valid: ${rejection.message}`, reason: rejection.reason, field: 'event' });
    return this.store.transaction(async (m) => {
      const row = await this.store.get(id, m, true);
      if (!row) throw new NotFoundException(`No dead letter with id ${id}.`);
      if (row.status !== 'pending') throw new ConflictException(`Dead letter ${id} is ${row.status}; only a pending one can be fixed.`);
      const q = queuedEventOf(row);
      if (!q) throw new ConflictException(`Dead letter ${id} holds no queued event (its payload is not one): it can only be discarded.`);
      const fixed: QueuedEvent = { ...q, e: event as QueuedEvent['e'] };
      // The messageId stays the letter's own unless the fix sets one: it is the event's identity.
      if ((fixed.e as { messageId?: unknown }).messageId === undefined) (fixed.e as { messageId?: unknown }).messageId = row.message_id;
      const text = JSON.stringify(fixed);
      await this.store.replacePayload(m, id, text, storableJson(fixed));
      await this.audit.append({ ...actor, action: 'dead_letter.fix', targetType: 'dead_letter', targetId: id, change: { messageId: row.message_id, sourceId: row.source_id } }, m);
      return { ...row, payload_text: text, fixed_at: new Date() };
    });
  }

  async discard(id: string, actor: Actor): Promise<DeadLetterRow> {
    return this.store.transaction(async (m) => {
      const row = await this.store.get(id, m, true);
      if (!row) throw new NotFoundException(`No dead letter with id ${id}.`);
      if (row.status === 'discarded') return row;
      await this.store.setStatus([id], 'discarded', ['pending', 'replayed'], m);
      await this.audit.append({ ...actor, action: 'dead_letter.discard', targetType: 'dead_letter', targetId: id, change: { messageId: row.message_id, sourceId: row.source_id, reasonCode: row.reason_code } }, m);
      this.metrics.deadLetterDiscards.inc();
      return { ...row, status: 'discarded' };
    });
  }

  /**
   * Discards every pending letter matching a filter (and/or among `ids`) in one statement. An
   * empty filter without ids is refused: nobody discards the whole queue by accident.
   */
  async discardMatching(filter: DeadLetterFilter, ids: string[] | undefined, actor: Actor): Promise<{ discarded: number }> {
    const f: DeadLetterFilter = Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined && v !== ''));
    if (Object.keys(f).length === 0 && !ids?.length) {
      throw new BadRequestException({
        message: 'Give a filter (sourceId, reason, from, to, q) or ids: an empty filter would discard every pending dead letter.',
        reason: 'empty_filter',
        field: 'ids',
      });
    }
    return this.store.transaction(async (m) => {
      const done = await this.store.discardMatching(f, ids ? [...new Set(ids)] : undefined, m);
      await this.audit.append(
        {
          ...actor,
          action: 'dead_letter.discard',
          targetType: 'dead_letter',
          targetId: done.n === 1 ? done.ids[0] : null,
          change: { filter: { ...f, status: 'pending' }, ...(ids ? { ids } : {}), discarded: done.n, discardedIds: done.ids, ...(done.n > done.ids.length ? { discardedIdsTruncated: true } : {}) },
        },
        m,
      );
      this.metrics.deadLetterDiscards.inc(done.n);
      return { discarded: done.n };
    });
  }

  /** Replays pending dead letters now (a handful, from one request). */
  async replay(ids: string[], actor: Actor): Promise<ReplayOutcome> {
    const rows = (await Promise.all(ids.map((id) => this.store.get(id)))).filter((r): r is DeadLetterRow => r !== null);
    const missing = ids.filter((id) => !rows.some((r) => r.id === id));
    if (missing.length) throw new NotFoundException(`No dead letter with id ${missing.slice(0, 5).join(', ')}.`);
    const outcome = await this.replayRows(rows);
    await this.audit.append({ ...actor, action: 'dead_letter.replay', targetType: 'dead_letter', targetId: ids.length === 1 ? ids[0] : null, change: { ids, replayed: outcome.replayed.length, rejected: outcome.rejected.length, skipped: outcome.skipped.length } });
    return outcome;
  }

  private async replayRows(rows: DeadLetterRow[]): Promise<ReplayOutcome> {
    const outcome: ReplayOutcome = { replayed: [], rejected: [], skipped: [] };
    const items: { row: DeadLetterRow; req: JobRequest; event: unknown }[] = [];
    for (const row of rows) {
      const q = row.status === 'pending' ? queuedEventOf(row) : null;
      if (!q) outcome.skipped.push(row.id);
      else items.push({ row, req: { s: q.s, t: q.t, ip: q.ip, r: q.r }, event: structuredClone(q.e) });
    }
    if (items.length === 0) return outcome;
    const { accepted, rejected } = await this.ingest.resubmit(items.map(({ req, event }) => ({ req, event })));
    // Queued first, marked after: a crash in between replays the letter again, which stores it
    // once all the same (dedup).
    outcome.replayed = await this.store.setStatus(accepted.map((i) => items[i].row.id), 'replayed');
    outcome.rejected = rejected.map((r) => ({ id: items[r.index].row.id, reason: r.reason, message: r.message }));
    this.metrics.deadLetterReplays.inc({ outcome: 'replayed' }, outcome.replayed.length);
    this.metrics.deadLetterReplays.inc({ outcome: 'rejected' }, outcome.rejected.length);
    return outcome;
  }

  /** Replays everything pending that matches, in the background; GET the replay for progress. */
  async startReplay(filter: DeadLetterFilter, actor: Actor): Promise<ReplayRow> {
    const f: DeadLetterFilter = { ...filter, status: 'pending' };
    const matched = await this.store.count(f);
    const replay = await this.store.createReplay(f, matched);
    await this.audit.append({ ...actor, action: 'dead_letter.replay_all', targetType: 'dead_letter_replay', targetId: replay.id, change: { filter: f, matched } });
    const run = this.runReplay(replay.id, f).finally(() => this.running.delete(run));
    this.running.add(run);
    return replay;
  }

  async getReplay(id: string): Promise<ReplayRow> {
    const r = await this.store.getReplay(id);
    if (!r) throw new NotFoundException(`No replay with id ${id}.`);
    return r;
  }

  private async runReplay(id: string, f: DeadLetterFilter): Promise<void> {
    let lastId = '0';
    try {
      for (;;) {
        if (this.stopping) throw new Error('the api shut down during the replay; start it again to replay the rest (what was replayed is not replayed twice)');
        const rows = await this.store.nextBatch(f, lastId, BATCH);
        if (rows.length === 0) break;
        const o = await this.replayRows(rows);
        lastId = rows[rows.length - 1].id;
        await this.store.progress(id, { replayed: o.replayed.length, rejected: o.rejected.length, lastId });
      }
      await this.store.finishReplay(id, 'done');
    } catch (err) {
      this.logger.warn(`dead-letter replay ${id} stopped: ${(err as Error).message}`);
      await this.store.finishReplay(id, 'failed', (err as Error).message.slice(0, 2000)).catch(() => undefined);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.gaugeTimer);
    this.stopping = true;
    await Promise.all([...this.running]);
  }
}
