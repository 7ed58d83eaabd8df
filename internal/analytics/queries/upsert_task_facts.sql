-- Merges what is known of tasks ($1 ids, $2 titles, $3 Jira ids, $4 fees, $5 rewards, $6 completion times; NULL = not known from this batch) into task_facts; $7 the business time zone of the completion date.
INSERT INTO task_facts (task_id, title, jira_id, fee_cents, reward_cents, completed_at,
  completed_date)
SELECT u.task_id, u.title, u.jira_id, u.fee, u.reward, u.completed_at,
  (u.completed_at AT TIME ZONE $7)::date
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::bigint[],
  $6::timestamptz[]) AS u(task_id, title, jira_id, fee, reward, completed_at)
ON CONFLICT (task_id) DO UPDATE SET
  title = COALESCE(EXCLUDED.title, task_facts.title),
  jira_id = COALESCE(EXCLUDED.jira_id, task_facts.jira_id),
  fee_cents = COALESCE(EXCLUDED.fee_cents, task_facts.fee_cents),
  reward_cents = COALESCE(EXCLUDED.reward_cents, task_facts.reward_cents),
  completed_at = COALESCE(EXCLUDED.completed_at, task_facts.completed_at),
  completed_date = COALESCE(EXCLUDED.completed_date, task_facts.completed_date)
