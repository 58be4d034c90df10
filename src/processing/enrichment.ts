import { EventRow } from '../domain/events/event-columns';
import { QueuedEvent } from '../queue/queue.constants';

const COLUMN_FIELDS = new Set([
  'type', 'messageId', 'event', 'name', 'userId', 'anonymousId', 'groupId', 'previousId',
  'timestamp', 'originalTimestamp', 'sentAt', 'receivedAt', 'properties', 'traits', 'context', 'integrations',
]);

// What PostgreSQL accepts from an ISO string: years 0001 to 9999 (toISOString writes others as
// +010000 or -000001, which PostgreSQL refuses).
const MIN_TS = Date.parse('0001-01-01T00:00:00.000Z');
const MAX_TS = Date.parse('9999-12-31T23:59:59.999Z');
const storable = (t: number) => t >= MIN_TS && t <= MAX_TS;

/** A client time as epoch ms, or null when absent, unparseable or not storable. */
const ms = (iso: unknown): number | null => {
  if (typeof iso !== 'string') return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) || !storable(t) ? null : t;
};

const str = (v: unknown): string | null => (v === undefined || v === null || v === '' ? null : String(v));

/**
 * Segment's clock-skew correction: the client's clock may be wrong, but the interval between
 * when it recorded the event and when it sent it is not, so
 * timestamp = receivedAt - (sentAt - originalTimestamp). Without sentAt the client's time is
 * kept; without any client time, receivedAt is used.
 */
export function correctTimestamp(receivedAt: number, original: number | null, sentAt: number | null): number {
  if (original === null) return receivedAt;
  if (sentAt === null) return original;
  return receivedAt - (sentAt - original);
}

/** Turns one queued event into its row: clock skew, context.ip, and nothing lost. */
export function toEventRow(q: QueuedEvent): EventRow {
  const e = q.e;
  const receivedAt = Date.parse(q.t);
  // The client's own record of when the event happened. Segment SDKs send it as `timestamp`;
  // an explicit originalTimestamp wins.
  const original = ms(e.originalTimestamp) ?? ms(e.timestamp);
  const sentAt = ms(e.sentAt);
  let ts = correctTimestamp(receivedAt, original, sentAt);
  if (!storable(ts)) ts = receivedAt; // a wild skew correction keeps the server's time

  let context = e.context ?? null;
  if (q.ip && (context === null || context.ip === undefined || context.ip === null)) context = { ...(context ?? {}), ip: q.ip };

  let extra: Record<string, unknown> | null = null;
  for (const key of Object.keys(e)) {
    if (!COLUMN_FIELDS.has(key)) (extra ??= {})[key] = e[key];
  }

  return {
    source_id: q.s,
    message_id: String(e.messageId),
    type: e.type,
    event: str(e.event),
    name: str(e.name),
    user_id: str(e.userId),
    anonymous_id: str(e.anonymousId),
    group_id: str(e.groupId),
    previous_id: str(e.previousId),
    timestamp: new Date(ts).toISOString(),
    original_timestamp: original === null ? null : new Date(original).toISOString(),
    sent_at: sentAt === null ? null : new Date(sentAt).toISOString(),
    received_at: q.t,
    properties: e.properties ?? null,
    traits: e.traits ?? null,
    context,
    integrations: e.integrations ?? null,
    extra,
  };
}
