/** Queue and job names, and the payloads they carry: the one contract between api and worker. */
export const QueueName = { Events: 'events' } as const;
export const JobName = { PersistEvents: 'persist' } as const;

/**
 * One accepted event as the api queues it. The raw Segment payload is kept untouched (with a
 * generated messageId when it had none); the worker derives the stored row from it.
 */
export interface QueuedEvent {
  /** source id */
  s: string;
  /** receivedAt, ISO 8601, set by the api */
  t: string;
  /** client IP as the api saw it (for context.ip when the event has none) */
  ip?: string;
  /** request id, so worker log lines can be tied to the request */
  r?: string;
  /** the event (messageId always present; batch-level context/integrations/sentAt merged in) */
  e: Record<string, any>;
}

export interface PersistEventsJob {
  events: QueuedEvent[];
}
