-- Renews the relay leader's lease: a session that answers still holds its lock. No parameters.
SELECT 1
