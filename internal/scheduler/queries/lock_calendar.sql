-- Every close takes the calendar row first, so closes commit one after another and a replica that walks the same days finds each one already there.
SELECT 1 FROM business_calendar WHERE id FOR UPDATE
