-- The summary (a DaySummary) of business date $1 ('' = today in time zone $2): fees, rewards, and how many accounts were negative at its end.
WITH d AS (SELECT COALESCE(NULLIF($1, '')::date, (now() AT TIME ZONE $2)::date) AS day)
SELECT d.day::text AS business_date,
       COALESCE((SELECT fees_cents FROM day_earnings WHERE business_date = d.day), 0) AS fees_cents,
       COALESCE((SELECT rewards_cents FROM day_earnings WHERE business_date = d.day), 0)
         AS rewards_cents,
       (SELECT count(*) FROM (SELECT account_id FROM account_day_totals
          WHERE business_date <= d.day GROUP BY account_id HAVING sum(amount_cents) < 0) n)
         AS negative_accounts
FROM d
