-- Generated snapshot of StatsRepository.uniques, daily in UTC (a unit test keeps it in step).
WITH agg AS (SELECT day::timestamp AS b, users FROM event_uniques_daily WHERE source_id = $1 AND day >= $6::date AND day < $7::date
  UNION ALL
SELECT b, count(DISTINCT u) AS users FROM (SELECT date_trunc($2, "timestamp" AT TIME ZONE $3) AS b, coalesce(user_id, anonymous_id) AS u FROM events
  WHERE source_id = $1 AND "timestamp" >= $4 AND "timestamp" < $5 AND coalesce(user_id, anonymous_id) IS NOT NULL) r GROUP BY b),
  series AS (
  SELECT generate_series(date_trunc($2, $8::timestamptz AT TIME ZONE $3),
  ($9::timestamptz - interval '1 microsecond') AT TIME ZONE $3,
  ('1 ' || $2)::interval) AS b
  )
  SELECT s.b AT TIME ZONE $3 AS start, coalesce(a.users, 0)::text AS users
  FROM series s LEFT JOIN agg a ON a.b = s.b ORDER BY s.b
