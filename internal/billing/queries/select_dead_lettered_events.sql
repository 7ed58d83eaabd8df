-- Which of events $2 consumer $1 dead-lettered, and why.
SELECT event_id, reason FROM dead_letters WHERE consumer = $1 AND event_id = ANY($2::text[])
