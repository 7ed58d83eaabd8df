-- Payout $1's e-mail was refused for good ($2 the error): spends an attempt, again in $3 seconds.
UPDATE payout_emails SET attempts = attempts + 1, last_error = $2,
       next_attempt_at = now() + make_interval(secs => $3)
WHERE payout_id = $1
