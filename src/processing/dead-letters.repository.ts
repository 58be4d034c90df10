import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { QueuedEvent } from '../queue/queue.constants';

export interface DeadLetter {
  event: QueuedEvent;
  reason: string;
}

@Injectable()
export class DeadLettersRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Stores events that could not be written. The payload is stored as text-safe JSON (NUL
   * characters escaped), because an event PostgreSQL rejected must still fit here.
   */
  async insert(letters: DeadLetter[], jobId: string | number | undefined, attempts: number): Promise<void> {
    if (letters.length === 0) return;
    const rows = letters.map((l) => ({
      source_id: l.event.s ?? null,
      message_id: l.event.e?.messageId != null ? String(l.event.e.messageId) : null,
      request_id: l.event.r ?? null,
      reason: l.reason.slice(0, 2000),
      payload: l.event,
    }));
    const json = JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'string' && v.includes('\u0000') ? v.replaceAll('\u0000', '\\u0000') : v));
    await this.db.query(
      `INSERT INTO dead_letters (source_id, message_id, request_id, job_id, attempts, reason, payload)
       SELECT r.source_id, r.message_id, r.request_id, $2, $3, r.reason, r.payload
         FROM json_to_recordset($1::json) AS r(source_id uuid, message_id text, request_id text, reason text, payload jsonb)`,
      [json, jobId === undefined ? null : String(jobId), attempts],
    );
  }
}
