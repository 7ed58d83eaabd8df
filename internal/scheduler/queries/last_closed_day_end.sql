-- Unix time of the midnight in time zone $1 that ended the last closed business day (the ates_scheduler_last_closed_day_end_seconds gauge); before any close, of the midnight that began the first business date, so "a day not closed an hour after it ended" holds from the start. Column: day_end (NULL before the calendar is recorded).
SELECT EXTRACT(EPOCH FROM (COALESCE((SELECT max(business_date) + 1 FROM closed_days),
                                    (SELECT first_business_date FROM business_calendar WHERE id))
                           ::timestamp AT TIME ZONE $1))::float8 AS day_end
