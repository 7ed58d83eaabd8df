-- Prices tasks once ($1 task ids, $2 assign fees, $3 completion rewards, in cents); returns the prices that are new.
INSERT INTO task_prices (task_id, assign_fee_cents, completion_reward_cents)
SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::bigint[])
ON CONFLICT (task_id) DO NOTHING
RETURNING task_id, assign_fee_cents, completion_reward_cents,
  EXTRACT(EPOCH FROM priced_at)::float8 AS priced_at
