-- Payout $1's e-mail failed transiently ($2 the error): again in $3 seconds, without spending an attempt.
UPDATE payout_emails SET last_error = $2, next_attempt_at = now() + make_interval(secs => $3)
WHERE payout_id = $1
