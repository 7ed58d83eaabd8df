-- Charges a failed-login attempt to keys $1 (sorted, so concurrent charges lock rows in one order) in windows of $2 seconds; returns each key's failures and the seconds its window has left.
INSERT INTO login_throttle AS t (key, failures, window_start)
SELECT k, 1, now() FROM unnest($1::text[]) AS k
ON CONFLICT (key) DO UPDATE SET
  failures = CASE WHEN t.window_start > now() - make_interval(secs => $2)
    THEN t.failures + 1 ELSE 1 END,
  window_start = CASE WHEN t.window_start > now() - make_interval(secs => $2)
    THEN t.window_start ELSE now() END
RETURNING key, failures,
  EXTRACT(EPOCH FROM t.window_start + make_interval(secs => $2) - now())::float8 AS seconds_left
