import { BadRequestException } from '@nestjs/common';

export const INTERVALS = ['minute', 'hour', 'day', 'week', 'month'] as const;
export type Interval = (typeof INTERVALS)[number];

const APPROX_MS: Record<Interval, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000, month: 28 * 86_400_000 };
const HOUR = 3_600_000;

/** A time zone PostgreSQL and Intl both know (IANA name, or UTC). */
export function checkTimeZone(tz: string | undefined): string {
  const zone = tz ?? 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new BadRequestException({ message: `tz: unknown time zone "${zone.slice(0, 60)}"; use an IANA name such as Europe/Berlin or UTC.`, reason: 'invalid_tz', field: 'tz' });
  }
  return zone;
}

/** The zone's offset from UTC at `at`, in minutes. */
export function offsetMinutes(tz: string, at: Date): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
}

export interface Range {
  from: Date;
  to: Date;
}

/** from < to, and no more than `maxBuckets` buckets of `interval` between them. */
export function checkRange(range: Partial<Range>, interval: Interval, maxBuckets: number): Range {
  const { from, to } = range;
  if (!from || !to) throw new BadRequestException({ message: `${!from ? 'from' : 'to'} is required (an ISO 8601 date-time).`, reason: 'invalid_range', field: !from ? 'from' : 'to' });
  if (!(from.getTime() < to.getTime())) throw new BadRequestException({ message: 'from must be before to.', reason: 'invalid_range', field: 'from' });
  const buckets = Math.ceil((to.getTime() - from.getTime()) / APPROX_MS[interval]);
  if (buckets > maxBuckets) {
    throw new BadRequestException({ message: `from–to spans about ${buckets} ${interval} buckets; at most ${maxBuckets} per answer: use a wider interval or a shorter range.`, reason: 'range_too_wide', field: 'interval' });
  }
  return { from, to };
}

/**
 * How a range splits between the hourly rollup and raw rows: the whole UTC hours inside it come
 * from the rollup, the partial hours at its edges from raw events. Null: raw rows only (minute
 * buckets, or a zone whose offset is not whole hours, where a UTC hour can straddle two buckets).
 */
export function rollupSpan(range: Range, interval: Interval, tz: string): { from: Date; to: Date } | null {
  if (interval === 'minute') return null;
  if ([range.from, range.to].some((at) => offsetMinutes(tz, at) % 60 !== 0)) return null;
  const from = new Date(Math.ceil(range.from.getTime() / HOUR) * HOUR);
  const to = new Date(Math.floor(range.to.getTime() / HOUR) * HOUR);
  return from < to ? { from, to } : null;
}
