-- Deletes one chunk (10000) of a consumer's inbox rows older than the retention. $1 consumer, $2 retention as an interval.
DELETE FROM processed_events
 WHERE ctid = ANY(ARRAY(SELECT ctid FROM processed_events
                         WHERE consumer = $1 AND processed_at < now() - $2::interval
                         LIMIT 10000))
