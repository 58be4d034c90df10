-- Generated snapshot of StatsRepository.funnel, 3 steps (a unit test keeps it in step).
WITH ev AS MATERIALIZED (
  SELECT coalesce(user_id, anonymous_id) AS u, "timestamp" AS ts, s
  FROM events, unnest(ARRAY[CASE WHEN event = $3 THEN 1 END, CASE WHEN event = $4 THEN 2 END, CASE WHEN event = $5 THEN 3 END]) AS s
  WHERE source_id = $1 AND event = ANY($6::text[])
  AND "timestamp" >= $7 AND "timestamp" < $8::timestamptz + $2::interval
  AND s IS NOT NULL AND coalesce(user_id, anonymous_id) IS NOT NULL
  ),
s1 AS (SELECT u, min(ts) AS start, NULL::timestamptz AS prev, min(ts) AS t FROM ev WHERE s = 1 AND ts < $8 GROUP BY u),
s2 AS (
  SELECT p.u, p.start, p.t AS prev, min(ev.ts) AS t FROM s1 p
  JOIN ev ON ev.u = p.u AND ev.s = 2 AND ev.ts > p.t AND ev.ts <= p.start + $2::interval
  GROUP BY p.u, p.start, p.t
  ),
s3 AS (
  SELECT p.u, p.start, p.t AS prev, min(ev.ts) AS t FROM s2 p
  JOIN ev ON ev.u = p.u AND ev.s = 3 AND ev.ts > p.t AND ev.ts <= p.start + $2::interval
  GROUP BY p.u, p.start, p.t
  )
SELECT 1 AS step, count(*)::text AS users, NULL::float8 AS median_seconds FROM s1
  UNION ALL
SELECT 2 AS step, count(*)::text AS users, percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t - prev))::float8 AS median_seconds FROM s2
  UNION ALL
SELECT 3 AS step, count(*)::text AS users, percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t - prev))::float8 AS median_seconds FROM s3
  ORDER BY step
