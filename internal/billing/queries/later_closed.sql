-- A row when business date $1 or a later one is already closed.
SELECT 1 AS closed FROM billing_cycles WHERE business_date >= $1::date LIMIT 1
