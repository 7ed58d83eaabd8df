-- Closes business date $1 at $2 for close event $3 ($4 the company account): pays out every positive amount due at the end of the day (the balance minus the postings of later, still open days), one payout per account and date, with its transaction, ledger entries, balance change and e-mail. Every balance is looked at: one that is negative by now may still have been positive at the end of $1. Returns the payouts.
WITH cyc AS (
  INSERT INTO billing_cycles (business_date, closed_at, close_event_id)
  VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING business_date),
 due AS (
  SELECT b.account_id, b.balance_cents - COALESCE((
    SELECT sum(d.amount_cents) FROM daily_totals d
    WHERE d.account_id = b.account_id AND d.business_date > $1::date), 0) AS amount
  FROM balances b, cyc WHERE b.account_id <> $4::uuid),
 p AS (
  INSERT INTO payouts (id, account_id, business_date, amount_cents, paid_at)
  SELECT gen_random_uuid(), account_id, $1, amount, $2 FROM due WHERE amount > 0
  ON CONFLICT (account_id, business_date) DO NOTHING
  RETURNING id, account_id, amount_cents),
 t AS (
  INSERT INTO transactions (id, kind, account_id, amount_cents, business_date, occurred_at)
  SELECT id, 'payout', account_id, -amount_cents, $1, $2 FROM p),
 le AS (
  INSERT INTO ledger_entries (transaction_id, account_id, amount_cents)
  SELECT id, account_id, -amount_cents FROM p
  UNION ALL SELECT id, $4::uuid, amount_cents FROM p),
 b AS (
  UPDATE balances SET balance_cents = balances.balance_cents - x.amount
  FROM (SELECT account_id, amount_cents AS amount FROM p
        UNION ALL SELECT $4::uuid, -sum(amount_cents) FROM p HAVING count(*) > 0) x
  WHERE balances.account_id = x.account_id),
 m AS (
  INSERT INTO payout_emails (payout_id, account_id, amount_cents, business_date)
  SELECT id, account_id, amount_cents, $1 FROM p),
 s AS (
  UPDATE billing_cycles SET payouts = (SELECT count(*) FROM p),
   paid_cents = COALESCE((SELECT sum(amount_cents) FROM p), 0)
  WHERE business_date = $1::date AND EXISTS (SELECT 1 FROM cyc))
SELECT id, account_id, amount_cents FROM p
