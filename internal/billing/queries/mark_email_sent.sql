-- Payout $1's e-mail was delivered.
UPDATE payout_emails SET sent_at = now(), attempts = attempts + 1, last_error = NULL
WHERE payout_id = $1
