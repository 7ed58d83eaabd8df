-- Fees charged and rewards paid (DayEarnings) on each business date from $1 to $2, zero on days without any.
SELECT d::date::text AS business_date,
       COALESCE(-sum(t.amount_cents) FILTER (WHERE t.kind = 'assign_fee'), 0) AS fees_cents,
       COALESCE(sum(t.amount_cents) FILTER (WHERE t.kind = 'completion_reward'), 0) AS rewards_cents
FROM generate_series($1::date, $2::date, interval '1 day') AS d
LEFT JOIN transactions t ON t.business_date = d::date
  AND t.kind IN ('assign_fee', 'completion_reward')
GROUP BY d ORDER BY d
