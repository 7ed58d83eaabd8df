-- Up to $2 accounts (AccountRows) whose id is after $1, by id.
SELECT id, login, full_name, email, role, active, version,
       EXTRACT(EPOCH FROM created_at)::float8 AS created_at,
       EXTRACT(EPOCH FROM updated_at)::float8 AS updated_at
FROM accounts WHERE id > $1 ORDER BY id LIMIT $2
