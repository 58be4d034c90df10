-- Generated snapshot of EventsQueryRepository.receipt (a unit test keeps it in step).
SELECT first_seen_at, event_timestamp FROM event_dedup WHERE source_id = $1 AND message_id = $2;

SELECT id::text AS id, reason_code, reason, created_at FROM dead_letters WHERE source_id = $1 AND message_id = $2
