-- The unpublished backlog: its size and the age of its oldest row. No parameters. Columns: backlog, oldest_age_s.
SELECT count(*) AS backlog, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0) AS oldest_age_s
  FROM outbox
 WHERE published_at IS NULL
