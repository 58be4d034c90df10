-- Generated snapshot of EventsQueryRepository.find, filtered by userId (a unit test keeps it in step).
SELECT "message_id" AS "messageId", "type" AS "type", "event" AS "event", "name" AS "name", "user_id" AS "userId", "anonymous_id" AS "anonymousId", "group_id" AS "groupId", "previous_id" AS "previousId", "timestamp" AS "timestamp", "original_timestamp" AS "originalTimestamp", "sent_at" AS "sentAt", "received_at" AS "receivedAt", "properties" AS "properties", "traits" AS "traits", "context" AS "context", "integrations" AS "integrations", "extra" AS "extra", "violations" AS "violations"
  FROM events WHERE source_id = $1 AND user_id = $2
  ORDER BY "timestamp" DESC, message_id DESC LIMIT $3
