-- After a successful login: clears the login's key $1 and gives every other key of the attempt ($2) one failure back.
UPDATE login_throttle SET failures = CASE WHEN key = $1 THEN 0 ELSE greatest(failures - 1, 0) END
WHERE key = ANY($2::text[])
