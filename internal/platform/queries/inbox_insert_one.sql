-- Records one replayed event id in a consumer's inbox unless seen. $1 consumer, $2 event id. Column: event_id (when new).
INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2::uuid)
    ON CONFLICT DO NOTHING
RETURNING event_id
