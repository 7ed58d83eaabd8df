-- A new account: $1 id, $2 login, $3 full_name, $4 email, $5 role, $6 password_hash, $7 created_at (also updated_at).
INSERT INTO accounts (id, login, full_name, email, role, password_hash, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
