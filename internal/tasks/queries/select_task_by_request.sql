-- The task account $1 created with idempotency key $2, with its assignee's login
-- and name from accounts_replica ('' while unknown).
SELECT t.id, t.title, t.jira_id, t.description, t.status, t.assignee_id, t.created_by, t.version,
  EXTRACT(EPOCH FROM t.created_at)::float8 AS created_at,
  EXTRACT(EPOCH FROM t.completed_at)::float8 AS completed_at,
  COALESCE(a.login, '') AS assignee_login, COALESCE(a.full_name, '') AS assignee_name
FROM tasks t LEFT JOIN accounts_replica a ON a.id = t.assignee_id
WHERE t.created_by = $1 AND t.request_id = $2
