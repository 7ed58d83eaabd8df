-- Prices tasks once ($1 task ids, $2 assign fees, $3 completion rewards, in cents); returns the prices that are new. Tasks already priced are left out before the insert (an index probe each, cheaper than a conflicting speculative insert: after a task's first event most are known); ON CONFLICT still settles two writers pricing one task at once.
INSERT INTO task_prices (task_id, assign_fee_cents, completion_reward_cents)
SELECT u.task_id, u.fee, u.reward
  FROM unnest($1::uuid[], $2::bigint[], $3::bigint[]) AS u(task_id, fee, reward)
 WHERE NOT EXISTS (SELECT 1 FROM task_prices p WHERE p.task_id = u.task_id)
ON CONFLICT (task_id) DO NOTHING
RETURNING task_id, assign_fee_cents, completion_reward_cents,
  EXTRACT(EPOCH FROM priced_at)::float8 AS priced_at
