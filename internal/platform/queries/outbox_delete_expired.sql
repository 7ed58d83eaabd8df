-- Deletes published rows older than the retention. $1 the retention as an interval.
DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < now() - $1::interval
