-- Generated snapshot of StatsRepository.retention, weekly (a unit test keeps it in step).
WITH first AS (
  SELECT coalesce(user_id, anonymous_id) AS u, min("timestamp") AS t FROM events
  WHERE source_id = $1 AND event = $4
  AND "timestamp" >= $5 AND "timestamp" < $6 AND coalesce(user_id, anonymous_id) IS NOT NULL
  GROUP BY 1
  ),
  cohort AS (SELECT u, date_trunc($2, t AT TIME ZONE $3) AS c FROM first),
  ret AS (
  SELECT DISTINCT coalesce(user_id, anonymous_id) AS u, date_trunc($2, "timestamp" AT TIME ZONE $3) AS p FROM events
  WHERE source_id = $1 AND event = $7
  AND "timestamp" >= $8 AND "timestamp" < $9 AND coalesce(user_id, anonymous_id) IS NOT NULL
  ),
  returned AS (
  SELECT c.c, (r.p::date - c.c::date) / 7 AS period, count(*) AS n
  FROM cohort c JOIN ret r USING (u)
  WHERE r.p > c.c AND (r.p::date - c.c::date) / 7 BETWEEN 1 AND $10
  GROUP BY 1, 2
  ),
  sizes AS (SELECT c, count(*) AS users FROM cohort GROUP BY c),
  series AS (
  SELECT generate_series(date_trunc($2, $11::timestamptz AT TIME ZONE $3),
  ($12::timestamptz - interval '1 microsecond') AT TIME ZONE $3,
  ('1 ' || $2)::interval) AS b
  )
  SELECT s.b AT TIME ZONE $3 AS start, coalesce(z.users, 0)::text AS users, r.period, r.n::text AS returned
  FROM series s LEFT JOIN sizes z ON z.c = s.b LEFT JOIN returned r ON r.c = s.b
  ORDER BY s.b, r.period
