-- Milliseconds until the shuffle cool-down of $1 seconds ends; no row when it has ended.
SELECT ceil(extract(epoch FROM last_at + make_interval(secs => $1::float8) - now())
  * 1000)::bigint AS wait_ms
FROM shuffle_runs WHERE last_at + make_interval(secs => $1::float8) > now()
