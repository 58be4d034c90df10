import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { EVENT_COLUMNS, sqlIdent } from '../domain/events/event-columns';

/** The query API's view of a stored event, derived from the one column list. */
export const EVENT_VIEW_SELECT = EVENT_COLUMNS.filter((c) => c.view)
  .map((c) => `${sqlIdent(c.name)} AS ${sqlIdent(c.field)}`)
  .join(', ');

export interface EventsQuery {
  sourceId: string;
  from?: Date;
  to?: Date;
  type?: string;
  /** keyset cursor: events strictly before this (timestamp, message_id) */
  before?: { timestamp: string; messageId: string };
  limit: number;
}

/** Reads raw events, newest first, by keyset pagination on (timestamp, message_id). */
@Injectable()
export class EventsQueryRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  find(q: EventsQuery): Promise<Record<string, unknown>[]> {
    const where = ['source_id = $1'];
    const params: unknown[] = [q.sourceId];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (q.from) add('"timestamp" >= ?', q.from);
    if (q.to) add('"timestamp" < ?', q.to);
    if (q.type) add('type = ?', q.type);
    if (q.before) {
      params.push(q.before.timestamp, q.before.messageId);
      where.push(`("timestamp", message_id) < ($${params.length - 1}::timestamptz, $${params.length})`);
    }
    params.push(q.limit);
    return this.db.query(
      `SELECT ${EVENT_VIEW_SELECT}
         FROM events WHERE ${where.join(' AND ')}
        ORDER BY "timestamp" DESC, message_id DESC LIMIT $${params.length}`,
      params,
    );
  }
}
