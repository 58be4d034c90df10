import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Rebuilds the rollups from the stored events (after a deletion, a restore, or ROLLUPS=off). */
@Injectable()
export class RollupsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Recounts `event_counts_hourly` for the whole UTC hours covering [from, to), and
   * `event_users_daily` (and `event_uniques_daily`) for the whole UTC days covering it, a day per transaction. Each takes
   * locks that wait for inserts in flight and hold new ones back until it commits (a day's
   * recount takes well under a second), so no insert is counted twice or missed.
   */
  async rebuild(from: Date, to: Date, sourceId?: string): Promise<{ hours: number; days: number; rows: number }> {
    const start = Math.floor(from.getTime() / HOUR) * HOUR;
    const end = Math.ceil(to.getTime() / HOUR) * HOUR;
    const bySource = sourceId ? ` AND source_id = $3` : '';
    let rows = 0;
    let days = 0;
    for (let day = Math.floor(start / DAY) * DAY; day < end; day += DAY, days++) {
      const lo = Math.max(day, start);
      const hi = Math.min(day + DAY, end);
      rows += await this.db.transaction(async (m) => {
        await m.query(`LOCK TABLE event_counts_hourly, event_users_daily, event_uniques_daily IN SHARE ROW EXCLUSIVE MODE`);
        const hours: unknown[] = [new Date(lo), new Date(hi), ...(sourceId ? [sourceId] : [])];
        await m.query(`DELETE FROM event_counts_hourly WHERE hour >= $1 AND hour < $2${bySource}`, hours);
        const counted = (await m.query(
          `WITH r AS (
             INSERT INTO event_counts_hourly (source_id, hour, type, event, n)
             SELECT source_id, date_trunc('hour', "timestamp", 'UTC'), type, coalesce(event, ''), count(*)
               FROM events WHERE "timestamp" >= $1 AND "timestamp" < $2${bySource}
              GROUP BY 1, 2, 3, 4
             RETURNING 1)
           SELECT count(*)::int AS n FROM r`,
          hours,
        )) as { n: number }[];
        const whole: unknown[] = [new Date(day), new Date(day + DAY), ...(sourceId ? [sourceId] : [])];
        const oneDay: unknown[] = [new Date(day), ...(sourceId ? [sourceId] : [])];
        await m.query(`DELETE FROM event_users_daily WHERE day = ($1::timestamptz AT TIME ZONE 'UTC')::date${sourceId ? ' AND source_id = $2' : ''}`, oneDay);
        await m.query(
          `INSERT INTO event_users_daily (source_id, day, user_key)
           SELECT DISTINCT source_id, ($1::timestamptz AT TIME ZONE 'UTC')::date, coalesce(user_id, anonymous_id)
             FROM events WHERE "timestamp" >= $1 AND "timestamp" < $2 AND coalesce(user_id, anonymous_id) IS NOT NULL${bySource}`,
          whole,
        );
        await m.query(`DELETE FROM event_uniques_daily WHERE day = ($1::timestamptz AT TIME ZONE 'UTC')::date${sourceId ? ' AND source_id = $2' : ''}`, oneDay);
        await m.query(
          `INSERT INTO event_uniques_daily (source_id, day, users)
           SELECT source_id, day, count(*) FROM event_users_daily WHERE day = ($1::timestamptz AT TIME ZONE 'UTC')::date${sourceId ? ' AND source_id = $2' : ''} GROUP BY 1, 2`,
          oneDay,
        );
        return counted[0]?.n ?? 0;
      });
    }
    return { hours: (end - start) / HOUR, days, rows };
  }
}
