-- Which of events $2 consumer $1's inbox holds (applied).
SELECT event_id::text AS event_id FROM processed_events
WHERE consumer = $1 AND event_id = ANY($2::uuid[])
