/**
 * When an event happened, as Sluice stores it. Shared by the api (which refuses events older
 * than retention) and the worker (which stores the time), so both decide alike.
 */

// What PostgreSQL accepts from an ISO string: years 0001 to 9999 (toISOString writes others as
// +010000 or -000001, which PostgreSQL refuses).
const MIN_TS = Date.parse('0001-01-01T00:00:00.000Z');
const MAX_TS = Date.parse('9999-12-31T23:59:59.999Z');
export const storableTime = (t: number): boolean => t >= MIN_TS && t <= MAX_TS;

const DAY_MS = 86_400_000;

/** A client time as epoch ms, or null when absent or unparseable (the api refuses unstorable ones). */
export function clientTime(iso: unknown): number | null {
  if (typeof iso !== 'string') return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) || !storableTime(t) ? null : t;
}

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

export interface EventTimes {
  /** the stored `timestamp` (epoch ms) */
  timestamp: number;
  original: number | null;
  sentAt: number | null;
  /** the corrected time was more than `futureDays` ahead of receivedAt (or unstorable): receivedAt was used */
  clamped: boolean;
}

/**
 * The event's times. A corrected time further ahead than `futureDays` (a client clock far off
 * with no sentAt to correct it) or outside PostgreSQL's range is replaced by receivedAt; the
 * client's own time stays in originalTimestamp, so nothing is lost.
 */
export function eventTimes(receivedAt: number, e: { originalTimestamp?: unknown; timestamp?: unknown; sentAt?: unknown }, futureDays: number): EventTimes {
  // When the event happened, by the client's clock: Segment SDKs send it as `timestamp`. The
  // RudderStack Node SDK stamps every call with originalTimestamp (when it was made) and passes
  // a caller's own `timestamp` (a backfill) beside it, which then is the event's time.
  const happened = clientTime(e.timestamp) ?? clientTime(e.originalTimestamp);
  // Stored as originalTimestamp: the client's own stamp, or its event time when it sent none.
  const original = clientTime(e.originalTimestamp) ?? happened;
  const sentAt = clientTime(e.sentAt);
  const ts = correctTimestamp(receivedAt, happened, sentAt);
  const clamped = !storableTime(ts) || ts > receivedAt + futureDays * DAY_MS;
  return { timestamp: clamped ? receivedAt : ts, original, sentAt, clamped };
}

/** Is this stored time older than the retention window (and so refused at the door)? */
export function pastRetention(timestamp: number, now: number, retentionDays: number): boolean {
  return timestamp < now - retentionDays * DAY_MS;
}

/** The days a source keeps: its own setting can only shorten the global retention. */
export function effectiveRetentionDays(sourceDays: number | null | undefined, globalDays: number): number {
  return sourceDays ? Math.min(sourceDays, globalDays) : globalDays;
}

/**
 * Where the retention job cuts: the start of the UTC day that holds `now - days`. Rows older are
 * removed, whole days at a time; the door already refuses anything older than `now - days`, so
 * nothing accepted is ever removed at once.
 */
export function retentionCutoff(now: number, days: number): Date {
  const edge = now - days * DAY_MS;
  return new Date(edge - (((edge % DAY_MS) + DAY_MS) % DAY_MS));
}
