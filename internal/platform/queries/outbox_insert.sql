-- Adds one event to the outbox inside the caller's transaction. $1 id, $2 aggregate_type, $3 aggregate_id, $4 event_type, $5 event_version, $6 payload (bytea), $7 correlation_id, $8 causation_id, $9 occurred_at, $10 traceparent (NULL for none).
INSERT INTO outbox (id, aggregate_type, aggregate_id, event_type, event_version, payload,
                    correlation_id, causation_id, occurred_at, traceparent)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
