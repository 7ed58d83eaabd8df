-- Takes the relay's leadership if no other session holds it. $1 the advisory lock key. Column: locked.
SELECT pg_try_advisory_lock($1) AS locked
