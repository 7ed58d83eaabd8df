CREATE TABLE IF NOT EXISTS tasks (
  id           uuid        PRIMARY KEY,
  title        text        NOT NULL,
  jira_id      text        NOT NULL DEFAULT '',
  description  text        NOT NULL DEFAULT '',
  status       text        NOT NULL CHECK (status IN ('open', 'completed')),
  assignee_id  uuid        NOT NULL,
  -- Set by each reassignment, so a shuffle returns the old assignee without a self-join.
  previous_assignee_id uuid,
  created_by   uuid        NOT NULL,
  request_id   text,
  version      bigint      NOT NULL DEFAULT 1,
  created_at   timestamptz NOT NULL,
  completed_at timestamptz,
  updated_at   timestamptz NOT NULL
);
-- Idempotency key per caller.
CREATE UNIQUE INDEX IF NOT EXISTS tasks_request ON tasks (created_by, request_id)
  WHERE request_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS tasks_open ON tasks (id) WHERE status = 'open';
CREATE INDEX IF NOT EXISTS tasks_assignee ON tasks (assignee_id, id);
