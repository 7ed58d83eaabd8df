-- When key $1 was created.
SELECT EXTRACT(EPOCH FROM created_at)::float8 AS created_at FROM signing_keys WHERE kid = $1
