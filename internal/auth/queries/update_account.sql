-- Changes account $1: $2 role, $3 email, $4 full_name, $5 active, $6 updated_at; bumps and returns its version.
UPDATE accounts SET role = $2, email = $3, full_name = $4, active = $5,
       version = version + 1, updated_at = $6
WHERE id = $1 RETURNING version
