-- Adds amounts to accounts' business-day totals ($1 account ids, $2 dates, $3 amounts in cents).
INSERT INTO account_day_totals (account_id, business_date, amount_cents)
SELECT * FROM unnest($1::uuid[], $2::date[], $3::bigint[])
ON CONFLICT (account_id, business_date) DO UPDATE SET
  amount_cents = account_day_totals.amount_cents + EXCLUDED.amount_cents
