import { Injectable } from '@nestjs/common';
import { EVENT_COLUMNS, sqlIdent } from '../domain/events/event-columns';
import { FieldFilter } from './event-filters';
import { QueryDatabase } from './query-database';

/** The query API's view of a stored event, derived from the one column list. */
export const EVENT_VIEW_SELECT = EVENT_COLUMNS.filter((c) => c.view)
  .map((c) => `${sqlIdent(c.name)} AS ${sqlIdent(c.field)}`)
  .join(', ');

/** Filters the list and the stats share; every one is ANDed. */
export interface EventFilters {
  type?: string;
  event?: string;
  userId?: string;
  anonymousId?: string;
  fields?: FieldFilter[];
}

export interface EventsQuery extends EventFilters {
  sourceId: string;
  from?: Date;
  to?: Date;
  /** keyset cursor: events strictly before this (timestamp, message_id) */
  before?: { timestamp: string; messageId: string };
  limit: number;
}

/** Builds a WHERE clause with numbered parameters; `params` is shared with the rest of the statement. */
export class Where {
  readonly parts: string[] = [];
  constructor(readonly params: unknown[] = []) {}

  /** `sql` holds one `?` for the value. */
  add(sql: string, value: unknown): this {
    this.params.push(value);
    this.parts.push(sql.replace('?', `$${this.params.length}`));
    return this;
  }

  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  filters(f: EventFilters): this {
    if (f.type) this.add('type = ?', f.type);
    if (f.event) this.add('event = ?', f.event);
    if (f.userId) this.add('user_id = ?', f.userId);
    if (f.anonymousId) this.add('anonymous_id = ?', f.anonymousId);
    // #>> compares the field as text: "42", "true" and "pro" all match as written in the URL.
    for (const ff of f.fields ?? []) this.add(`${ff.column} #>> ${this.param(ff.path)}::text[] = ?`, ff.value);
    return this;
  }

  get sql(): string {
    return this.parts.length ? this.parts.join(' AND ') : 'true';
  }
}

export interface Receipt {
  stored: Record<string, unknown> | null;
  deadLetter: { id: string; reasonCode: string; reason: string; deadLetteredAt: Date } | null;
  /** When the dedup claim was made: set when the event was stored at some point. */
  firstSeenAt: Date | null;
}

/** Reads raw events, newest first, by keyset pagination on (timestamp, message_id); and receipts. */
@Injectable()
export class EventsQueryRepository {
  constructor(private readonly db: QueryDatabase) {}

  find(q: EventsQuery): Promise<Record<string, unknown>[]> {
    const w = new Where().add('source_id = ?', q.sourceId).filters(q);
    if (q.from) w.add('"timestamp" >= ?', q.from);
    if (q.to) w.add('"timestamp" < ?', q.to);
    if (q.before) w.parts.push(`("timestamp", message_id) < (${w.param(q.before.timestamp)}::timestamptz, ${w.param(q.before.messageId)})`);
    return this.db.read(
      `SELECT ${EVENT_VIEW_SELECT}
         FROM events WHERE ${w.sql}
        ORDER BY "timestamp" DESC, message_id DESC LIMIT ${w.param(q.limit)}`,
      w.params,
    );
  }

  /**
   * Where one event is: stored (found through its dedup claim, which remembers its timestamp so
   * only one daily partition is read), dead-lettered, or neither.
   */
  receipt(sourceId: string, messageId: string): Promise<Receipt> {
    return this.db.session(async (query) => {
      const [claim] = await query<{ first_seen_at: Date; event_timestamp: Date | null }>(
        `SELECT first_seen_at, event_timestamp FROM event_dedup WHERE source_id = $1 AND message_id = $2`,
        [sourceId, messageId],
      );
      let stored: Record<string, unknown> | null = null;
      if (claim) {
        // Claims made before the timestamp was recorded: every partition's (source, time) index.
        const byTime = claim.event_timestamp ? ` AND "timestamp" = $3` : '';
        const params = claim.event_timestamp ? [sourceId, messageId, claim.event_timestamp] : [sourceId, messageId];
        [stored = null] = await query<Record<string, unknown>>(`SELECT ${EVENT_VIEW_SELECT} FROM events WHERE source_id = $1 AND message_id = $2${byTime} LIMIT 1`, params);
      }
      const [letter] = await query<{ id: string; reason_code: string; reason: string; created_at: Date }>(
        `SELECT id::text AS id, reason_code, reason, created_at FROM dead_letters WHERE source_id = $1 AND message_id = $2`,
        [sourceId, messageId],
      );
      return {
        stored,
        deadLetter: letter ? { id: letter.id, reasonCode: letter.reason_code, reason: letter.reason, deadLetteredAt: letter.created_at } : null,
        firstSeenAt: claim?.first_seen_at ?? null,
      };
    });
  }
}
