-- Stores the newest state of accounts ($1 ids, $2 logins, $3 full names, $4 e-mails, $5 roles, $6 active flags, $7 versions); an older version never overwrites a newer one.
INSERT INTO accounts_replica (id, login, full_name, email, role, active, version)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                     $6::boolean[], $7::bigint[])
ON CONFLICT (id) DO UPDATE SET login = EXCLUDED.login, full_name = EXCLUDED.full_name,
  email = EXCLUDED.email, role = EXCLUDED.role, active = EXCLUDED.active,
  version = EXCLUDED.version, updated_at = now()
WHERE accounts_replica.version < EXCLUDED.version
