-- Today's date in time zone $1.
SELECT (now() AT TIME ZONE $1)::date::text AS today
