-- A page of tasks after id $1, of assignee $2 ('' = any) and status $3 ('' = any), at most $4, by id,
-- with the assignee's login and name from accounts_replica ('' while the replica has not seen them).
SELECT t.id, t.title, t.jira_id, t.description, t.status, t.assignee_id, t.created_by, t.version,
  EXTRACT(EPOCH FROM t.created_at)::float8 AS created_at,
  EXTRACT(EPOCH FROM t.completed_at)::float8 AS completed_at,
  COALESCE(a.login, '') AS assignee_login, COALESCE(a.full_name, '') AS assignee_name
FROM tasks t LEFT JOIN accounts_replica a ON a.id = t.assignee_id
WHERE t.id > $1 AND ($2 = '' OR t.assignee_id = $2::uuid)
  AND ($3 = '' OR t.status = $3) ORDER BY t.id LIMIT $4
