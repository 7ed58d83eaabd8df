-- Up to $2 closed days (ClosedCycles) before date $1 (NULL: the latest), newest first.
SELECT to_char(business_date, 'YYYY-MM-DD') AS business_date, event_id,
       EXTRACT(EPOCH FROM closed_at)::float8 AS closed_at, manual
FROM closed_days WHERE ($1::date IS NULL OR business_date < $1::date)
ORDER BY business_date DESC LIMIT $2
