-- Records business date $1 closed by event $2 with nothing paid (a later day's close paid it).
INSERT INTO billing_cycles (business_date, closed_at, close_event_id)
VALUES ($1, now(), $2) ON CONFLICT DO NOTHING
