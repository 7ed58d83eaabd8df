-- Taken by a batch that closes a day: waits for every posting batch to finish (see posting_lock). No parameters.
SELECT pg_advisory_xact_lock(4242100)
