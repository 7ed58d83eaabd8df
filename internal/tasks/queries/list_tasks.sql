-- A page of tasks after id $1, of assignee $2 ('' = any) and status $3 ('' = any), at most $4, by id.
SELECT id, title, jira_id, description, status, assignee_id, created_by, version,
  EXTRACT(EPOCH FROM created_at)::float8 AS created_at,
  EXTRACT(EPOCH FROM completed_at)::float8 AS completed_at
FROM tasks WHERE id > $1 AND ($2 = '' OR assignee_id = $2::uuid)
  AND ($3 = '' OR status = $3) ORDER BY id LIMIT $4
