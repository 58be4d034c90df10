-- Generated snapshot of StatsRepository.topEvents (a unit test keeps it in step).
WITH counted AS (SELECT hour AS ts, event AS key, n FROM event_counts_hourly
  WHERE source_id = $1 AND hour >= $3 AND hour < $4 AND type = $2
  UNION ALL
SELECT "timestamp" AS ts, coalesce(event, '') AS key, 1::bigint AS n FROM events
  WHERE source_id = $1 AND "timestamp" >= $6 AND "timestamp" < $7 AND type = $5),
  top AS (SELECT key AS event, sum(n) AS n FROM counted GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $8)
  SELECT t.event, t.n::text AS n, coalesce(u.users, 0)::text AS users FROM top t
  LEFT JOIN (
  SELECT event, count(DISTINCT coalesce(user_id, anonymous_id)) AS users FROM events
  WHERE source_id = $9 AND event = ANY(ARRAY(SELECT event FROM top)) AND "timestamp" >= $10 AND "timestamp" < $11
  AND true
  GROUP BY 1
  ) u USING (event)
  ORDER BY t.n DESC, t.event
