-- Records migration $1 (its name) as applied.
INSERT INTO schema_migrations (name) VALUES ($1)
