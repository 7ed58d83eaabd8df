-- A page of the dead letters not yet replayed. $1 the last id of the page before (0: first page), $2 page size.
SELECT id, consumer, event_id, subject, event_type, event_version, stream_seq, deliveries, reason,
       EXTRACT(EPOCH FROM created_at)::float8 AS created_at_s
  FROM dead_letters
 WHERE replayed_at IS NULL AND id > $1
 ORDER BY id
 LIMIT $2
