-- Records a batch's event ids in a consumer's inbox, skipping those seen before. $1 consumer, $2 event ids. Column: event_id (the new ones).
INSERT INTO processed_events (consumer, event_id)
SELECT $1, unnest($2::uuid[])
    ON CONFLICT DO NOTHING
RETURNING event_id
