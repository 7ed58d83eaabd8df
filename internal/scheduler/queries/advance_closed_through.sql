-- The automatic pass has closed every day through $1.
UPDATE business_calendar SET closed_through = $1::date, updated_at = now()
WHERE id AND (closed_through IS NULL OR closed_through < $1::date)
