-- Today by PostgreSQL's clock in business zone $1 (the scheduler's clock may be wrong), and whether date $2 is after it: a close must not pay out a day that has not ended (today itself may be closed early).
SELECT to_char((now() AT TIME ZONE $1)::date, 'YYYY-MM-DD') AS today,
  $2::date > (now() AT TIME ZONE $1)::date AS in_future
