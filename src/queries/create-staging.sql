-- Generated snapshot of EventsRepository.CREATE_STAGING_SQL (a unit test keeps it in step).
CREATE TEMP TABLE IF NOT EXISTS sluice_incoming (
  idx int, "source_id" uuid, "message_id" text, "type" text, "event" text, "name" text, "user_id" text, "anonymous_id" text, "group_id" text, "previous_id" text, "timestamp" timestamptz, "original_timestamp" timestamptz, "sent_at" timestamptz, "received_at" timestamptz, "properties" jsonb, "traits" jsonb, "context" jsonb, "integrations" jsonb, "extra" jsonb, "violations" jsonb
) ON COMMIT DELETE ROWS
