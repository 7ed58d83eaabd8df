-- Sets the title and Jira id of priced tasks ($1 task ids, $2 titles, $3 Jira ids).
UPDATE task_prices p SET title = u.title, jira_id = u.jira_id
FROM unnest($1::uuid[], $2::text[], $3::text[]) AS u(task_id, title, jira_id)
WHERE p.task_id = u.task_id
