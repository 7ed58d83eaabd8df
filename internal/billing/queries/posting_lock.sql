-- Postings wait for a close to finish (shared here, exclusive in close_lock), so a close sees every posting of the days it closes and no posting lands in a closed day. No parameters.
SELECT pg_advisory_xact_lock_shared(4242100)
