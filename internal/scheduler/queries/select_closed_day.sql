-- Closed day $1 (a ClosedCycle).
SELECT to_char(business_date, 'YYYY-MM-DD') AS business_date, event_id,
       EXTRACT(EPOCH FROM closed_at)::float8 AS closed_at, manual
FROM closed_days WHERE business_date = $1::date
