import { EventRow } from './event-columns';
import { eventTimes } from './timestamps';
import { QueuedEvent } from '../../queue/queue.constants';

const COLUMN_FIELDS = new Set([
  'type', 'messageId', 'event', 'name', 'userId', 'anonymousId', 'groupId', 'previousId',
  'timestamp', 'originalTimestamp', 'sentAt', 'receivedAt', 'properties', 'traits', 'context', 'integrations',
]);

const str = (v: unknown): string | null => (v === undefined || v === null || v === '' ? null : String(v));

/** How far ahead of receivedAt a corrected timestamp may be (beyond: receivedAt; see eventTimes). */
export const DEFAULT_FUTURE_DAYS = 7;

/**
 * Turns one queued event into its row: clock skew, context.ip, and nothing lost (fields Sluice
 * has no column for go to `extra`).
 */
export function toEventRow(q: QueuedEvent, futureDays = DEFAULT_FUTURE_DAYS): EventRow {
  const e = q.e;
  const receivedAt = Date.parse(q.t);
  const { timestamp: ts, original, sentAt } = eventTimes(receivedAt, e, futureDays);

  let context = e.context ?? null;
  if (q.ip && (context === null || context.ip === undefined || context.ip === null)) context = { ...(context ?? {}), ip: q.ip };

  let extra: Record<string, unknown> | null = null;
  for (const key of Object.keys(e)) {
    // defineProperty, not assignment: a key named "__proto__" is data here, not a prototype.
    if (!COLUMN_FIELDS.has(key)) Object.defineProperty((extra ??= {}), key, { value: e[key], enumerable: true, writable: true, configurable: true });
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
    violations: q.v?.a === 'flag' ? { plan: q.v.p, items: q.v.v } : null,
  };
}
