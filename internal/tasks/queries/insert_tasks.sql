-- Inserts a batch of tasks ($1 ids, $2 titles, $3 Jira ids, $4 descriptions, $5 assignees, $6 creators, $7 request ids or NULL, $8 creation times), each only if its chosen assignee is still assignable; a task that is not inserted, or an idempotency key that exists (a unique violation: no ON CONFLICT, whose speculative insertion costs every row), fails the statement (ates_assert), events included, and the batch is retried task by task.
WITH ins AS (
 INSERT INTO tasks (id, title, jira_id, description, status, assignee_id, created_by,
  request_id, version, created_at, updated_at)
 SELECT n.id, n.title, n.jira_id, n.description, 'open', n.assignee_id, n.created_by,
  n.request_id, 1, n.created_at, n.created_at
 FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::uuid[],
  $7::text[], $8::timestamptz[])
  AS n(id, title, jira_id, description, assignee_id, created_by, request_id, created_at)
 WHERE EXISTS (SELECT 1 FROM accounts_replica a WHERE a.id = n.assignee_id AND a.active
  AND a.role IN ('worker', 'accountant'))
 RETURNING 1)
SELECT ates_assert((SELECT count(*) FROM ins) = cardinality($1::uuid[]), 'task not inserted')
