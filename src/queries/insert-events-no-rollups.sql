-- Generated snapshot of EventsRepository.INSERT_EVENTS_NO_ROLLUPS_SQL (a unit test keeps it in step).
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
)
SELECT count(*)::int AS inserted FROM inserted
