-- Records $1 as the first business date unless one is recorded.
INSERT INTO business_calendar (id, first_business_date) VALUES (true, $1::date)
ON CONFLICT (id) DO NOTHING
