-- Accounts whose replica row changed at or after $1 (seconds since the epoch), for the
-- token revocation view: id, version, active, updated_at (seconds since the epoch).
SELECT id::text, version, active, EXTRACT(EPOCH FROM updated_at)::float8 AS updated_at
  FROM accounts_replica
 WHERE updated_at >= to_timestamp($1)
