import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { EVENT_COLUMN_LIST } from '../../src/domain/events/event-columns';
import { CopyRowsFactory } from './events';

export interface CopyResult {
  sourceId: string;
  connections: number;
  rowsPerBatch: number;
  rows: number;
  batches: number;
  startedAt: number;
  finishedAt: number;
  seconds: number;
  rowsPerSecond: number;
}

/**
 * The physical limit of the database here: plain COPY of the same rows into the same `events`
 * table (no dedup, no queue, no HTTP), from this process over `connections` connections, one
 * committed COPY per batch, for a fixed duration. Rows go to a fresh source id.
 */
export async function connectCopyClients(dbUrl: string, connections = 2): Promise<Client[]> {
  return Promise.all(
    Array.from({ length: connections }, async () => {
      const c = new Client({ connectionString: dbUrl, application_name: 'sluice-bench-copy' });
      await c.connect();
      return c;
    }),
  );
}

/** `clients` are opened (and closed) by the caller, so CPU accounting can see their backends. */
export async function copyBaseline(clients: Client[], opts: { seconds: number; rowsPerBatch?: number; tag: string }): Promise<CopyResult> {
  const rowsPerBatch = opts.rowsPerBatch ?? 2000;
  const sourceId = randomUUID();
  const rows = new CopyRowsFactory(sourceId, opts.tag, rowsPerBatch);
  const sql = `COPY events (${EVENT_COLUMN_LIST}) FROM STDIN`;
  let total = 0;
  let batches = 0;
  const startedAt = Date.now();
  const deadline = startedAt + opts.seconds * 1000;
  await Promise.all(
    clients.map(async (client) => {
      while (Date.now() < deadline) {
        const stream = client.query(copyFrom(sql));
        await pipeline(Readable.from([Buffer.from(rows.next())]), stream);
        total += stream.rowCount ?? 0;
        batches++;
      }
    }),
  );
  const finishedAt = Date.now();
  const seconds = (finishedAt - startedAt) / 1000;
  return { sourceId, connections: clients.length, rowsPerBatch, rows: total, batches, startedAt, finishedAt, seconds, rowsPerSecond: Math.round(total / seconds) };
}
