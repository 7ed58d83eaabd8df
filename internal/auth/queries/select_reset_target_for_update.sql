-- The account (an AccountRow) an admin resets the password of: by id $1 or by login $2 (the other one empty), locked.
SELECT id, login, full_name, email, role, active, version,
       EXTRACT(EPOCH FROM created_at)::float8 AS created_at,
       EXTRACT(EPOCH FROM updated_at)::float8 AS updated_at
FROM accounts
WHERE ($1 <> '' AND id::text = $1) OR ($2 <> '' AND login = $2)
FOR UPDATE
