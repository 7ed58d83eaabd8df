-- One shuffle at a time across replicas (held until the transaction ends). No parameters.
SELECT pg_advisory_xact_lock(4242003)
