-- Deletes the counters whose window of $1 seconds has ended.
DELETE FROM login_throttle WHERE window_start < now() - make_interval(secs => $1)
