-- Both clocks at once (a ClockReading): the scheduler's ($1, read just before the statement was sent) and PostgreSQL's, each as a date in time zone $2, and how far apart they are in microseconds (to within the round trip).
SELECT to_char(($1::timestamptz AT TIME ZONE $2)::date, 'YYYY-MM-DD') AS clock_today,
       to_char((now() AT TIME ZONE $2)::date, 'YYYY-MM-DD') AS database_today,
       (EXTRACT(EPOCH FROM ($1::timestamptz - now())) * 1000000)::bigint AS skew_us
