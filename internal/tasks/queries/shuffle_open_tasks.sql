-- Gives every open task a uniformly random assignable account (random() is evaluated per row) at time $1; returns each task with its new and previous assignee. A task completed meanwhile is skipped: `t.status = 'open'` is re-checked on the locked row.
WITH c AS (
 SELECT array_agg(id ORDER BY id) AS ids FROM accounts_replica
 WHERE active AND role IN ('worker', 'accountant'))
UPDATE tasks t SET previous_assignee_id = t.assignee_id,
  assignee_id = c.ids[1 + floor(random() * cardinality(c.ids))::int],
  version = t.version + 1, updated_at = $1
FROM c WHERE t.status = 'open' AND cardinality(c.ids) > 0
RETURNING t.id::text AS task_id, t.assignee_id::text AS assignee_id,
  t.previous_assignee_id::text AS previous_assignee_id
