-- Up to 50 payout e-mails (DueEmailRows) due now with fewer than $1 attempts, locked (replicas skip each other's); the address and name are '' while the accounts replica has not seen the account.
SELECT e.payout_id, e.amount_cents, e.business_date::text AS business_date,
       COALESCE(a.email, '') AS email, COALESCE(a.full_name, '') AS full_name, e.attempts
FROM payout_emails e LEFT JOIN accounts_replica a ON a.id = e.account_id
WHERE e.sent_at IS NULL AND e.next_attempt_at <= now() AND e.attempts < $1
ORDER BY e.next_attempt_at LIMIT 50 FOR UPDATE OF e SKIP LOCKED
