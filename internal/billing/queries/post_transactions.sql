-- Fees (assigned) and rewards (completed) with their counter-entries on the company account, balances and day totals, in one statement ($1 event ids = transaction ids, $2 kinds, $3 account ids, $4 task ids, $5 times, $6 business time zone, $7 company account). Returns the postings that are new.
WITH ev AS (
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::timestamptz[])
  AS e(id, kind, account_id, task_id, occurred_at)),
 last_closed AS (SELECT max(business_date) AS d FROM billing_cycles),
 ins AS (
  INSERT INTO transactions (id, kind, account_id, task_id, amount_cents, business_date,
   occurred_at)
  SELECT ev.id, ev.kind, ev.account_id, ev.task_id,
   CASE WHEN ev.kind = 'assign_fee' THEN -p.assign_fee_cents
        ELSE p.completion_reward_cents END,
   GREATEST((ev.occurred_at AT TIME ZONE $6)::date,
            COALESCE((SELECT d FROM last_closed) + 1, '-infinity'::date)),
   ev.occurred_at
  FROM ev JOIN task_prices p ON p.task_id = ev.task_id
  ORDER BY ev.occurred_at, ev.id -- the audit log (by seq) reads in time order
  ON CONFLICT (id) DO NOTHING
  RETURNING id, kind, account_id, task_id, amount_cents, business_date, occurred_at),
 le AS (
  INSERT INTO ledger_entries (transaction_id, account_id, amount_cents)
  SELECT id, account_id, amount_cents FROM ins
  UNION ALL SELECT id, $7::uuid, -amount_cents FROM ins),
 bal AS (
  INSERT INTO balances (account_id, balance_cents)
  SELECT account_id, sum(amount) FROM (
   SELECT account_id, amount_cents AS amount FROM ins
   UNION ALL SELECT $7::uuid, -amount_cents FROM ins) x
  GROUP BY account_id ORDER BY account_id -- one lock order for every writer
  ON CONFLICT (account_id) DO UPDATE
  SET balance_cents = balances.balance_cents + EXCLUDED.balance_cents),
 dt AS (
  INSERT INTO daily_totals (account_id, business_date, amount_cents)
  SELECT account_id, business_date, sum(amount_cents) FROM ins GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (account_id, business_date) DO UPDATE
  SET amount_cents = daily_totals.amount_cents + EXCLUDED.amount_cents)
SELECT id, kind, account_id, task_id, amount_cents, business_date::text AS business_date,
  EXTRACT(EPOCH FROM occurred_at)::float8 AS occurred_at FROM ins
