-- Serializes key generation and rotation across replicas (until the transaction ends).
SELECT pg_advisory_xact_lock(4242002)
