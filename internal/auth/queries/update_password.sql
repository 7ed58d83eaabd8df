-- Sets account $1's password hash to $2 at $3 (updated_at); bumps and returns its version (older tokens die).
UPDATE accounts SET password_hash = $2, version = version + 1, updated_at = $3
WHERE id = $1 RETURNING version
