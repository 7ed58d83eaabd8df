-- The business calendar (a CalendarRow): the first business date and the last day the automatic pass closed (NULL: none yet).
SELECT to_char(first_business_date, 'YYYY-MM-DD') AS first_business_date,
       to_char(closed_through, 'YYYY-MM-DD') AS closed_through
FROM business_calendar WHERE id
