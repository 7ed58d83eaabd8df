-- Fee and reward postings (LedgerPostings) linked to business day $1: those of the day's events ($5, wherever they are), and those whose time falls in the day ($2..$3 unix microseconds) written before $4. The latter are on the day's date, or on a later one when the day was closed before they arrived (the first open day then), never after the day after the last close: the range keeps to the transactions_day index.
SELECT t.id::text AS id, t.kind, t.account_id::text AS account_id,
       COALESCE(t.task_id::text, '') AS task_id, t.amount_cents,
       t.business_date::text AS business_date,
       (EXTRACT(EPOCH FROM t.occurred_at) * 1000000)::int8 AS occurred_us
FROM transactions t
WHERE t.kind IN ('assign_fee', 'completion_reward') AND (t.id = ANY($5::uuid[]) OR (
  t.business_date BETWEEN $1::date
    AND GREATEST($1::date, (SELECT max(business_date) FROM billing_cycles) + 1)
  AND t.occurred_at >= 'epoch'::timestamptz + $2::int8 * interval '1 microsecond'
  AND t.occurred_at < 'epoch'::timestamptz + $3::int8 * interval '1 microsecond'
  AND t.created_at < 'epoch'::timestamptz + $4::int8 * interval '1 microsecond'))
