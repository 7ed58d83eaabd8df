-- Closes business date $1 (event $2, at $3, $4 manual) unless it is closed; PostgreSQL's clock in time zone $5 has the last word on "never the future": the automatic pass closes only days before its today, a manual close at most its today. One row when it closed the day.
INSERT INTO closed_days (business_date, event_id, closed_at, manual)
SELECT $1::date, $2::uuid, $3::timestamptz, $4::boolean
WHERE $1::date < (now() AT TIME ZONE $5)::date + CASE WHEN $4::boolean THEN 1 ELSE 0 END
ON CONFLICT (business_date) DO NOTHING RETURNING 1
