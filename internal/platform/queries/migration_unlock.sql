-- Releases migration_lock.sql. No parameters.
SELECT pg_advisory_unlock(4242001)
