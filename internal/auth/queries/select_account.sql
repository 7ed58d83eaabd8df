-- The account with id $1 (an AccountRow).
SELECT id, login, full_name, email, role, active, version,
       EXTRACT(EPOCH FROM created_at)::float8 AS created_at,
       EXTRACT(EPOCH FROM updated_at)::float8 AS updated_at
FROM accounts WHERE id = $1
