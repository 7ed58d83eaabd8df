-- A configured first business date $1 wins over the recorded one; the automatic pass then walks again from it (days already closed stay as they are).
INSERT INTO business_calendar (id, first_business_date) VALUES (true, $1::date)
ON CONFLICT (id) DO UPDATE SET first_business_date = EXCLUDED.first_business_date,
  closed_through = NULL, updated_at = now()
WHERE business_calendar.first_business_date <> EXCLUDED.first_business_date
