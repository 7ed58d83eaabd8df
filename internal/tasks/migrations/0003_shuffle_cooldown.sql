-- When the last shuffle ran: the cool-down between shuffles (tasks.shuffle_cooldown)
-- holds across every replica of ates-tasks. One row at most.
CREATE TABLE IF NOT EXISTS shuffle_runs (
  id      boolean     PRIMARY KEY DEFAULT true CHECK (id),
  last_at timestamptz NOT NULL
);
