-- Generated snapshot of StatsRepository.counts, hourly by event (rollup + raw edges) (a unit test keeps it in step).
WITH counted AS (SELECT hour AS ts, event AS key, n FROM event_counts_hourly
  WHERE source_id = $1 AND hour >= $2 AND hour < $3 AND true
  UNION ALL
SELECT "timestamp" AS ts, coalesce(event, '') AS key, 1::bigint AS n FROM events
  WHERE source_id = $1 AND "timestamp" >= $4 AND "timestamp" < $5 AND true),
  agg AS (
  SELECT date_trunc($6, ts AT TIME ZONE $7) AS b, key, sum(n) AS n FROM counted GROUP BY 1, 2
  ),
  per_bucket AS (
  SELECT b, sum(n) AS n, jsonb_object_agg(key, n) FILTER (WHERE key IS NOT NULL) AS groups FROM agg GROUP BY b
  ),
  series AS (
  SELECT generate_series(date_trunc($6, $8::timestamptz AT TIME ZONE $7),
  ($9::timestamptz - interval '1 microsecond') AT TIME ZONE $7,
  ('1 ' || $6)::interval) AS b
  )
  SELECT s.b AT TIME ZONE $7 AS start, coalesce(p.n, 0)::text AS n, p.groups
  FROM series s LEFT JOIN per_bucket p ON p.b = s.b
  ORDER BY s.b
