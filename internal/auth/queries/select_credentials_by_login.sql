-- The account with login $1 and its password hash (a CredentialsRow).
SELECT id, login, full_name, email, role, active, version,
       EXTRACT(EPOCH FROM created_at)::float8 AS created_at,
       EXTRACT(EPOCH FROM updated_at)::float8 AS updated_at,
       password_hash
FROM accounts WHERE login = $1
