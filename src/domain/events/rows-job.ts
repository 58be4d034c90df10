import { AcceptedEvent, IncomingEvent, isRowsJob, JobLetter, JobRequest, PersistJob, PersistRowsJob, PlanVerdict, QueuedEvent, queuedEvent, unpackJob } from '../../queue/queue.constants';
import { copyLine } from './copy-format';
import { EVENT_COLUMNS, EventRow } from './event-columns';
import { DEFAULT_FUTURE_DAYS, toEventRow } from './enrichment';

/** The dead letter's reason for a quarantined event: the plan and what it violates, readable. */
export function quarantineReason(v: PlanVerdict): string {
  return `quarantined by tracking plan ${v.p}: ${v.v.map((x) => x.message).join('; ')}`;
}

/**
 * Renders accepted events as a rows job (format 2): each event is enriched (clock skew,
 * context.ip, envelope merged, extra fields) and written as its staging-table COPY line, once,
 * here in the api. Quarantined events and any whose row cannot be made travel as letters.
 */
export function renderRowsJob(events: readonly AcceptedEvent[], futureDays = DEFAULT_FUTURE_DAYS): PersistRowsJob {
  const requests: JobRequest[] = [];
  const index = new Map<JobRequest, number>();
  const q: number[] = [];
  const days = new Set<string>();
  let rows = '';
  let letters: JobLetter[] | undefined;
  for (const { req, e, v } of events) {
    let r = index.get(req);
    if (r === undefined) {
      // Context and integrations end up in the rows; ip too, but a letter's event still needs it.
      const kept: JobRequest = { s: req.s, t: req.t };
      if (req.ip) kept.ip = req.ip;
      if (req.r) kept.r = req.r;
      if (req.tp) kept.tp = req.tp;
      r = requests.push(kept) - 1;
      index.set(req, r);
    }
    const queued = queuedEvent(req, e, v);
    if (v?.a === 'quarantine') {
      (letters ??= []).push({ q: r, e: queued.e, v, code: 'schema_violation', reason: quarantineReason(v) });
      continue;
    }
    let row: EventRow;
    try {
      row = toEventRow(queued, futureDays);
    } catch (err) {
      (letters ??= []).push({ q: r, e: queued.e, ...(v ? { v } : {}), code: 'enrichment_failed', reason: `enrichment failed: ${(err as Error).message}` });
      continue;
    }
    rows += copyLine(row, q.length);
    q.push(r);
    days.add(row.timestamp.slice(0, 10));
  }
  const job: PersistRowsJob = { f: 2, requests, q, rows, days: [...days] };
  if (letters) job.letters = letters;
  return job;
}

/** The rows job's lines, each with its newline (COPY text escapes newlines inside fields). */
export function rowLines(rows: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (let end = rows.indexOf('\n'); end !== -1; end = rows.indexOf('\n', start)) {
    lines.push(rows.slice(start, end + 1));
    start = end + 1;
  }
  return lines;
}

const UNESCAPE: Record<string, string> = { '\\': '\\', n: '\n', r: '\r', t: '\t' };
function unescapeText(field: string): string | null {
  if (field === '\\N') return null;
  return field.includes('\\') ? field.replace(/\\(.)/g, (_, c: string) => UNESCAPE[c] ?? c) : field;
}

/** A staging-table line back to its row index and row (the rare paths: a refused row, a swept job). */
export function parseCopyLine(line: string): { idx: number; row: EventRow } {
  const fields = (line.endsWith('\n') ? line.slice(0, -1) : line).split('\t');
  if (fields.length !== EVENT_COLUMNS.length + 1) throw new Error(`a rows-job line has ${fields.length} fields, expected ${EVENT_COLUMNS.length + 1}`);
  const row: Record<string, unknown> = {};
  EVENT_COLUMNS.forEach((c, i) => {
    const text = unescapeText(fields[i + 1]);
    if (c.type !== 'jsonb' || text === null) row[c.name] = text;
    else {
      try {
        row[c.name] = JSON.parse(text);
      } catch {
        row[c.name] = text; // kept as text: the dead letter still holds every byte
      }
    }
  });
  return { idx: Number(fields[0]), row: row as EventRow };
}

const TEXT_FIELDS = [
  ['event', 'event'], ['name', 'name'], ['user_id', 'userId'], ['anonymous_id', 'anonymousId'], ['group_id', 'groupId'], ['previous_id', 'previousId'],
] as const;
const JSON_FIELDS = [['properties', 'properties'], ['traits', 'traits'], ['context', 'context'], ['integrations', 'integrations']] as const;

/**
 * The event a stored row came from, as a dead letter keeps it: enriching it again (a replay)
 * gives the same row (a property test holds it so). Times are written so that the clock-skew
 * correction lands on the stored timestamp again; context already holds the client ip.
 */
export function queuedEventFromRow(row: EventRow, requestId?: string): QueuedEvent {
  const e = {} as IncomingEvent;
  if (row.extra && typeof row.extra === 'object' && !Array.isArray(row.extra)) {
    for (const [k, val] of Object.entries(row.extra)) Object.defineProperty(e, k, { value: val, enumerable: true, writable: true, configurable: true });
  }
  e.type = row.type;
  e.messageId = row.message_id;
  for (const [col, field] of TEXT_FIELDS) if (row[col] !== null) e[field] = row[col];
  if (row.original_timestamp !== null) {
    e.originalTimestamp = row.original_timestamp;
    const ts = Date.parse(row.timestamp);
    // timestamp = receivedAt - (sentAt - happened)  =>  happened = timestamp + sentAt - receivedAt
    e.timestamp = row.sent_at === null ? row.timestamp : new Date(ts + Date.parse(row.sent_at) - Date.parse(row.received_at)).toISOString();
  }
  if (row.sent_at !== null) e.sentAt = row.sent_at;
  for (const [col, field] of JSON_FIELDS) if (row[col] !== null && row[col] !== undefined) e[field] = row[col] as Record<string, unknown>;
  const violations = row.violations as { plan?: string; items?: PlanVerdict['v'] } | null;
  const q: QueuedEvent = { s: row.source_id, t: row.received_at, e };
  if (requestId) q.r = requestId;
  if (violations?.plan) q.v = { a: 'flag', p: violations.plan, v: violations.items ?? [] };
  return q;
}

/** A rows-job letter as the queued event a dead letter keeps. */
export function queuedEventOfLetter(job: PersistRowsJob, l: JobLetter): QueuedEvent {
  const req = job.requests[l.q];
  const q: QueuedEvent = { s: req.s, t: req.t, e: l.e };
  if (req.ip) q.ip = req.ip;
  if (req.r) q.r = req.r;
  if (l.v) q.v = l.v;
  return q;
}

/** Every event of a job, self-contained, whatever its format (the failed-job sweep, dead-lettering). */
export function jobEvents(job: PersistJob): QueuedEvent[] {
  if (!isRowsJob(job)) return unpackJob(job);
  const events = rowLines(job.rows).map((line, i) => queuedEventFromRow(parseCopyLine(line).row, job.requests[job.q[i]]?.r));
  for (const l of job.letters ?? []) events.push(queuedEventOfLetter(job, l));
  return events;
}

/** Queued events back to accepted ones (each its own request), to be queued again. */
export function acceptedAgain(events: readonly QueuedEvent[]): AcceptedEvent[] {
  return events.map((q) => {
    const req: JobRequest = { s: q.s, t: q.t };
    if (q.ip) req.ip = q.ip;
    if (q.r) req.r = q.r;
    return q.v ? { req, e: q.e, v: q.v } : { req, e: q.e };
  });
}
