-- Generated snapshot of EventsRepository.INSERT_EVENTS_SQL (a unit test keeps it in step).
WITH uniq AS (
  SELECT DISTINCT ON (source_id, message_id) * FROM sluice_incoming ORDER BY source_id, message_id, idx
), claimed AS (
  INSERT INTO event_dedup (source_id, message_id, event_timestamp)
  SELECT source_id, message_id, "timestamp" FROM uniq
  ON CONFLICT DO NOTHING
  RETURNING source_id, message_id
), inserted AS (
  INSERT INTO events ("source_id", "message_id", "type", "event", "name", "user_id", "anonymous_id", "group_id", "previous_id", "timestamp", "original_timestamp", "sent_at", "received_at", "properties", "traits", "context", "integrations", "extra", "violations")
  SELECT u."source_id", u."message_id", u."type", u."event", u."name", u."user_id", u."anonymous_id", u."group_id", u."previous_id", u."timestamp", u."original_timestamp", u."sent_at", u."received_at", u."properties", u."traits", u."context", u."integrations", u."extra", u."violations"
  FROM uniq u JOIN claimed c USING (source_id, message_id)
  RETURNING source_id, "timestamp", type, event, coalesce(user_id, anonymous_id) AS user_key
), counted AS (
  INSERT INTO event_counts_hourly AS r (source_id, hour, type, event, n)
  SELECT source_id, date_trunc('hour', "timestamp", 'UTC'), type, coalesce(event, ''), count(*)
  FROM inserted GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (source_id, hour, type, event) DO UPDATE SET n = r.n + excluded.n
), active AS (
  INSERT INTO event_users_daily (source_id, day, user_key)
  SELECT DISTINCT source_id, ("timestamp" AT TIME ZONE 'UTC')::date, user_key
  FROM inserted WHERE user_key IS NOT NULL ORDER BY 1, 2, 3
  ON CONFLICT DO NOTHING
  RETURNING source_id, day
), uniques AS (
  INSERT INTO event_uniques_daily AS d (source_id, day, users)
  SELECT source_id, day, count(*) FROM active GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (source_id, day) DO UPDATE SET users = d.users + excluded.users
)
SELECT count(*)::int AS inserted FROM inserted
