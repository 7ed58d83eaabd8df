-- Whether migration $1 (its name) was applied: one row if so.
SELECT 1 FROM schema_migrations WHERE name = $1
