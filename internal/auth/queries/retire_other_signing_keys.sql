-- Retires every key but $1; returns the kids retired.
UPDATE signing_keys SET retired_at = now() WHERE retired_at IS NULL AND kid <> $1
RETURNING kid
