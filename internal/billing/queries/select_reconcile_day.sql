-- The business day $1 ('' = today) in time zone $2: its bounds [day_start_us, day_end_us) in unix microseconds, the date, today's date there, and the database's clock now (snapshot_us).
WITH d AS (SELECT COALESCE(NULLIF($1, '')::date, (now() AT TIME ZONE $2)::date) AS day)
SELECT (EXTRACT(EPOCH FROM (day::timestamp AT TIME ZONE $2)) * 1000000)::int8 AS day_start_us,
       (EXTRACT(EPOCH FROM ((day + 1)::timestamp AT TIME ZONE $2)) * 1000000)::int8 AS day_end_us,
       day::text AS business_date,
       (now() AT TIME ZONE $2)::date::text AS today,
       (EXTRACT(EPOCH FROM now()) * 1000000)::int8 AS snapshot_us
FROM d
