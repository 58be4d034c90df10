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

/** One accepted event as the api queues it; the worker derives the stored row from it. */
export interface QueuedEvent {
  /** source id */
  s: string;
  /** receivedAt, ISO 8601, set by the api */
  t: string;
  /** client IP as the api saw it (for context.ip when the event has none) */
  ip?: string;
  /** request id, so worker log lines can be tied to the request */
  r?: string;
  /** the event */
  e: IncomingEvent;
}

export interface PersistEventsJob {
  events: QueuedEvent[];
}
