-- Hands the relay's leadership over at once (on stop). $1 the advisory lock key.
SELECT pg_advisory_unlock($1)
