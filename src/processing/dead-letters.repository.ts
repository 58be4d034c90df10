import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { execute } from '../database/execute';
import { storableJson, storableText } from '../domain/events/storable-text';
import { QueuedEvent } from '../queue/queue.constants';
import { classifyDbError } from './db-errors';

/** Why an event was dead-lettered, for filtering; `reason` says it in words. */
export type DeadLetterCode = 'rejected_by_postgres' | 'retries_exhausted' | 'worker_crash' | 'enrichment_failed' | 'schema_violation';

export interface DeadLetter {
  event: QueuedEvent;
  code: DeadLetterCode;
  reason: string;
}

/** An insert that cannot fail on content: its own error is a database outage or a bug. */
export const INSERT_DEAD_LETTERS_SQL = `
INSERT INTO dead_letters (source_id, message_id, request_id, job_id, attempts, reason_code, reason, payload_text, payload)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[], $9::jsonb[])
ON CONFLICT (source_id, message_id) DO UPDATE SET
  reason_code = excluded.reason_code, reason = excluded.reason, payload_text = excluded.payload_text, payload = excluded.payload,
  job_id = excluded.job_id, request_id = excluded.request_id, attempts = dead_letters.attempts + excluded.attempts,
  status = 'pending', updated_at = now(), created_at = now()
WHERE dead_letters.status <> 'pending'`;

@Injectable()
export class DeadLettersRepository {
  private readonly logger = new Logger(DeadLettersRepository.name);

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Stores events that could not be written, whatever their content: the original JSON text in
   * `payload_text` (plain JSON escapes make any string storable as text), a sanitised jsonb copy
   * in `payload`. One row per (source, messageId): a dead-lettering that runs again (the
   * failed-job sweep after a crash) writes nothing twice; an event replayed (or discarded) that
   * fails again reopens its row as pending with the new reason. Returns how many rows changed.
   */
  async insert(letters: DeadLetter[], jobId: string | number | undefined, attempts: number): Promise<number> {
    if (letters.length === 0) return 0;
    // One row per event even if the same event appears twice in the list.
    const unique = [...new Map(letters.map((l) => [`${l.event.s}\u0001${String(l.event.e?.messageId)}`, l])).values()];
    const cols = {
      source: unique.map((l) => l.event.s),
      messageId: unique.map((l) => storableText(String(l.event.e?.messageId ?? ''))),
      requestId: unique.map((l) => (l.event.r ? storableText(l.event.r) : null)),
      jobId: unique.map(() => (jobId === undefined ? null : String(jobId))),
      attempts: unique.map(() => attempts),
      code: unique.map((l) => l.code),
      reason: unique.map((l) => storableText(l.reason.slice(0, 2000))),
      text: unique.map((l) => JSON.stringify(l.event)),
      json: unique.map((l) => storableJson(l.event)),
    };
    const params = (json: (string | null)[]) => [cols.source, cols.messageId, cols.requestId, cols.jobId, cols.attempts, cols.code, cols.reason, cols.text, json];
    try {
      return await execute(this.db, INSERT_DEAD_LETTERS_SQL, params(cols.json));
    } catch (err) {
      if (classifyDbError(err) !== 'data') throw err;
      // Belt and braces: keep the exact text even if no jsonb copy could be made.
      this.logger.warn(`dead letters stored without their jsonb copy: ${(err as Error).message}`);
      return await execute(this.db, INSERT_DEAD_LETTERS_SQL, params(cols.json.map(() => null)));
    }
  }
}
