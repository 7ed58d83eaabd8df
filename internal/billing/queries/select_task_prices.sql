-- The prices of tasks $1.
SELECT task_id::text AS task_id, assign_fee_cents, completion_reward_cents FROM task_prices
WHERE task_id = ANY($1::uuid[])
