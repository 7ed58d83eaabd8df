-- Fees charged and rewards paid (DaySummaries without negative_accounts) on each business date from $1 to $2, zero on days without any.
SELECT d::date::text AS business_date, COALESCE(e.fees_cents, 0) AS fees_cents,
       COALESCE(e.rewards_cents, 0) AS rewards_cents
FROM generate_series($1::date, $2::date, interval '1 day') AS d
LEFT JOIN day_earnings e ON e.business_date = d::date
ORDER BY d
