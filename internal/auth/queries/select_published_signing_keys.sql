-- Keys that may verify a current token (PublicKeyRows): not retired, or retired less than $1 seconds ago; oldest first.
SELECT kid, public_key, EXTRACT(EPOCH FROM created_at)::float8 AS created_at FROM signing_keys
WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => $1)
ORDER BY created_at
