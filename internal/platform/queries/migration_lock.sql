-- Serializes migrations across replicas starting together (session advisory lock). No parameters.
SELECT pg_advisory_lock(4242001)
