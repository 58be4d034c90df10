/** Queue and job names, and the payloads they carry: the one contract between api and worker. */
export const QueueName = { Events: 'events' } as const;
export const JobName = { PersistEvents: 'persist' } as const;

/** An identifier as Segment SDKs send it (some send numbers). */
export type SegmentId = string | number | null;

/**
 * A Segment event as the api accepted it: the client's payload with `type` set from the route,
 * `messageId` always present, the batch envelope's context/integrations/sentAt merged in and any
 * body `writeKey` removed. Fields Sluice does not know are kept (stored in `extra`).
 */
export interface IncomingEvent {
  type: string;
  messageId: string;
  userId?: SegmentId;
  anonymousId?: SegmentId;
  groupId?: SegmentId;
  previousId?: SegmentId;
  event?: string | null;
  name?: string | null;
  timestamp?: string | null;
  originalTimestamp?: string | null;
  sentAt?: string | null;
  properties?: Record<string, unknown> | null;
  traits?: Record<string, unknown> | null;
  context?: Record<string, unknown> | null;
  integrations?: Record<string, unknown> | null;
  [field: string]: unknown;
}

/**
 * One request's share of a job: what its events have in common, stored once per job rather
 * than once per event (a batch's envelope `context` is not copied into each of its events in
 * Redis; the worker merges it when it builds the rows).
 */
export interface JobRequest {
  /** source id */
  s: string;
  /** receivedAt, ISO 8601, set by the api */
  t: string;
  /** client IP as the api saw it (for context.ip when the event has none) */
  ip?: string;
  /** request id, so worker log lines can be tied to the request */
  r?: string;
  /**
   * W3C traceparent of the request's span, while tracing is on: the worker's job span links to
   * each request it serves (a job carries many requests, so there is no single parent).
   */
  tp?: string;
  /** the batch envelope's context and integrations, merged under each event's own */
  context?: Record<string, unknown>;
  integrations?: Record<string, unknown>;
}

/** A tracking-plan violation as it travels with an event (the api found it; the worker stores it). */
export interface WireViolation {
  type: string;
  keyword: string;
  instancePath: string;
  message: string;
}

/**
 * What the source's tracking plan decided for an event that violates it, when the worker must act
 * on it: `flag` stores the event with its violations, `quarantine` dead-letters it
 * (`schema_violation`). `p` is the plan and version that judged it (`<plan id>@<version>`).
 */
export interface PlanVerdict {
  a: 'flag' | 'quarantine';
  p: string;
  v: WireViolation[];
}

/** An event in a job: the index of its request in `requests`, the event, and any plan verdict. */
export interface JobEvent {
  q: number;
  e: IncomingEvent;
  v?: PlanVerdict;
}

/** The payload of a persist job: the wire format between api and worker. */
export interface PersistEventsJob {
  requests: JobRequest[];
  events: JobEvent[];
}

/**
 * Format 2 of a persist job, what the api writes: every event already in its stored form, as the
 * staging table's COPY text lines, so the worker streams them to PostgreSQL without parsing or
 * serializing any event (docs/architecture.md, "The path of one event"). Format 1
 * (PersistEventsJob, the events as JSON) is still read, for jobs an older api queued.
 */
export interface PersistRowsJob {
  f: 2;
  /** source, receivedAt, request id and traceparent of each request (context and ip are in the rows) */
  requests: JobRequest[];
  /** the index in `requests` of each row's request, row by row */
  q: number[];
  /** one `<row index>\t<the EVENT_COLUMNS fields>\n` line per row, COPY text format */
  rows: string;
  /** the UTC days (YYYY-MM-DD) the rows' timestamps fall on: the partitions they need */
  days: string[];
  /** events the api decided to dead-letter (quarantined by a tracking plan, or with no row) */
  letters?: JobLetter[];
}

/** An event of a rows job that is dead-lettered as it is, with why. */
export interface JobLetter {
  q: number;
  e: IncomingEvent;
  v?: PlanVerdict;
  code: 'schema_violation' | 'enrichment_failed';
  reason: string;
}

/** Any persist job on the queue. */
export type PersistJob = PersistEventsJob | PersistRowsJob;

export const isRowsJob = (job: PersistJob): job is PersistRowsJob => (job as PersistRowsJob).f === 2;

/** How many events a job carries, whatever its format. */
export const jobEventCount = (job: PersistJob): number => (isRowsJob(job) ? job.q.length + (job.letters?.length ?? 0) : job.events.length);

/** An accepted event in the api's memory, before it is packed into a job. */
export interface AcceptedEvent {
  req: JobRequest;
  e: IncomingEvent;
  v?: PlanVerdict;
}

/**
 * One event with everything the worker needs to store it (its request's fields, the envelope
 * merged in): what enrichment reads and what a dead letter keeps, self-contained.
 */
export interface QueuedEvent {
  s: string;
  t: string;
  ip?: string;
  r?: string;
  e: IncomingEvent;
  v?: PlanVerdict;
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Packs accepted events into one job's payload, each distinct request once. */
export function packJob(events: AcceptedEvent[]): PersistEventsJob {
  const requests: JobRequest[] = [];
  const index = new Map<JobRequest, number>();
  const packed: JobEvent[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const { req, e, v } = events[i];
    let q = index.get(req);
    if (q === undefined) {
      q = requests.push(req) - 1;
      index.set(req, q);
    }
    packed[i] = v ? { q, e, v } : { q, e };
  }
  return { requests, events: packed };
}

/** One event, self-contained: its request's fields added, the envelope merged under its own. */
export function queuedEvent(req: JobRequest, e: IncomingEvent, v?: PlanVerdict): QueuedEvent {
  let event = e;
  if (req.context || req.integrations) {
    event = { ...e };
    if (req.context) event.context = isObject(e.context) ? { ...req.context, ...e.context } : { ...req.context };
    if (req.integrations) event.integrations = isObject(e.integrations) ? { ...req.integrations, ...e.integrations } : { ...req.integrations };
  }
  return v ? { s: req.s, t: req.t, ip: req.ip, r: req.r, e: event, v } : { s: req.s, t: req.t, ip: req.ip, r: req.r, e: event };
}

/** The job's events, self-contained: the request's fields added, its envelope merged under each event's own. */
export function unpackJob(job: PersistEventsJob): QueuedEvent[] {
  return job.events.map(({ q, e, v }) => queuedEvent(job.requests[q], e, v));
}
