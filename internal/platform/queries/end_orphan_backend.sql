-- Ends the backend that still runs transaction $2 when its client is gone (waiting up to 1 s for it to exit), so that the transaction's status becomes final: a COMMIT it already received completes first. Matching the transaction id as well as the pid ($1) guards against a reused pid.
SELECT pg_terminate_backend(pid, 1000)
  FROM pg_stat_activity
 WHERE pid = $1 AND backend_xid::text = ($2::numeric % 4294967296)::text
