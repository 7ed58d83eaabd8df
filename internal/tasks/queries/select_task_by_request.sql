-- The task account $1 created with idempotency key $2.
SELECT id, title, jira_id, description, status, assignee_id, created_by, version,
  EXTRACT(EPOCH FROM created_at)::float8 AS created_at,
  EXTRACT(EPOCH FROM completed_at)::float8 AS completed_at
FROM tasks WHERE created_by = $1 AND request_id = $2
