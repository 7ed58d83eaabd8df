-- Up to $6 payouts (PayoutRows) of account $1 ('' = every account) on business dates $2..$3, after
-- ($4 date, $5 id) (the page's cursor), with the account's login and name from accounts_replica.
SELECT p.id, p.account_id,
       COALESCE(a.login, '') AS account_login, COALESCE(a.full_name, '') AS account_name,
       p.business_date::text AS business_date, p.amount_cents,
       EXTRACT(EPOCH FROM p.paid_at)::float8 AS paid_at,
       e.sent_at IS NOT NULL AS email_sent
FROM payouts p LEFT JOIN payout_emails e ON e.payout_id = p.id
  LEFT JOIN accounts_replica a ON a.id = p.account_id
WHERE ($1 = '' OR p.account_id = $1::uuid) AND p.business_date BETWEEN $2::date AND $3::date
  AND (p.business_date, p.id) > ($4::date, $5::uuid)
ORDER BY p.business_date, p.id LIMIT $6
