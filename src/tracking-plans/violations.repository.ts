import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface ViolationCount {
  source_id: string;
  hour: string;
  event_type: string;
  event: string;
  violation: string;
  keyword: string;
  instance_path: string;
  action: string;
  n: number;
  message: string;
  /** the first event of the group, as JSON text */
  sample: string;
}

/** One group of the report: the counts of a key summed over the range. */
export type ViolationGroup = Pick<ViolationCount, 'event_type' | 'event' | 'violation' | 'keyword' | 'instance_path' | 'action' | 'message'> & {
  n: string;
  sample: unknown;
  first_hour: Date;
  last_hour: Date;
};

@Injectable()
export class ViolationsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Adds counts in one statement (rows in key order, so two apis flushing never deadlock); the first sample stays. */
  async add(rows: ViolationCount[]): Promise<void> {
    if (rows.length === 0) return;
    const sorted = [...rows].sort((a, b) => KEY(a).localeCompare(KEY(b)));
    const col = <K extends keyof ViolationCount>(k: K) => sorted.map((r) => r[k]);
    await this.db.query(
      `INSERT INTO violation_counts_hourly (source_id, hour, event_type, event, violation, keyword, instance_path, action, n, message, sample)
       SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::text[], $11::jsonb[])
       ON CONFLICT (source_id, hour, event_type, event, violation, keyword, instance_path, action)
       DO UPDATE SET n = violation_counts_hourly.n + excluded.n`,
      [col('source_id'), col('hour'), col('event_type'), col('event'), col('violation'), col('keyword'), col('instance_path'), col('action'), col('n'), col('message'), col('sample')],
    );
  }

  /** Counts over a time range grouped by event and violation, with a sample payload per group. */
  report(q: { sourceId: string; from: Date; to: Date; event?: string; type?: string }): Promise<ViolationGroup[]> {
    return this.db.query(
      `SELECT event_type, event, violation, keyword, instance_path, action, sum(n)::text AS n,
              (array_agg(message ORDER BY hour))[1] AS message, (array_agg(sample ORDER BY hour))[1] AS sample,
              min(hour) AS first_hour, max(hour) AS last_hour
         FROM violation_counts_hourly
        WHERE source_id = $1 AND hour >= date_trunc('hour', $2::timestamptz, 'UTC') AND hour < $3
          AND ($4::text IS NULL OR event = $4) AND ($5::text IS NULL OR violation = $5)
        GROUP BY 1, 2, 3, 4, 5, 6
        ORDER BY sum(n) DESC, 1, 2, 3, 4, 5, 6
        LIMIT 1000`,
      [q.sourceId, q.from, q.to, q.event ?? null, q.type ?? null],
    );
  }
}

const KEY = (r: ViolationCount) => [r.source_id, r.hour, r.event_type, r.event, r.violation, r.keyword, r.instance_path, r.action].join('\u0000');
