-- The days before $1 that have postings and are not closed, oldest first. Postings never land on a closed day (they go to the first open one), so these are the days after the last close that need a close of their own.
SELECT DISTINCT business_date::text AS business_date FROM transactions
WHERE business_date < $1::date
  AND business_date > COALESCE((SELECT max(business_date) FROM billing_cycles),
   '-infinity'::date)
ORDER BY 1
