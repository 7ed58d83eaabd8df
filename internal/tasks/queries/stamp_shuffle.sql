-- Records that a shuffle runs now (the cool-down starts). No parameters.
INSERT INTO shuffle_runs (id, last_at) VALUES (true, now())
ON CONFLICT (id) DO UPDATE SET last_at = EXCLUDED.last_at
