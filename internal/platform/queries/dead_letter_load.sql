-- One waiting dead letter of a consumer, locked for its replay (two replays take turns). $1 id, $2 consumer.
SELECT event_id, subject, event_type, event_version, headers, payload
  FROM dead_letters
 WHERE id = $1 AND consumer = $2 AND replayed_at IS NULL
   FOR UPDATE
