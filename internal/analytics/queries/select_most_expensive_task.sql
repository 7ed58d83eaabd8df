-- The period ($3: day, week or month) around business date $1 ('' = today in time zone $2), and the task with the highest reward completed in it (task_id NULL when none was).
WITH d AS (SELECT COALESCE(NULLIF($1, '')::date, (now() AT TIME ZONE $2)::date) AS day),
period AS (
  SELECT CASE $3 WHEN 'day' THEN day
           WHEN 'week' THEN date_trunc('week', day)::date
           ELSE date_trunc('month', day)::date END AS from_date,
         CASE $3 WHEN 'day' THEN day
           WHEN 'week' THEN (date_trunc('week', day) + interval '6 days')::date
           ELSE (date_trunc('month', day) + interval '1 month' - interval '1 day')::date
         END AS to_date
  FROM d)
SELECT p.from_date::text AS from_date, p.to_date::text AS to_date, t.task_id,
       COALESCE(t.title, '') AS title, COALESCE(t.jira_id, '') AS jira_id, t.reward_cents,
       EXTRACT(EPOCH FROM t.completed_at)::float8 AS completed_at
FROM period p LEFT JOIN LATERAL (
  SELECT task_id, title, jira_id, reward_cents, completed_at FROM task_facts
  WHERE completed_date BETWEEN p.from_date AND p.to_date AND reward_cents IS NOT NULL
  ORDER BY reward_cents DESC, completed_at, task_id LIMIT 1) t ON true
