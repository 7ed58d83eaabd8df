-- The W3C traceparent of the work that wrote an outbox row (ADR 33); the relay
-- sends it as NATS header `traceparent`. Rows written before have none (NULL).
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS traceparent text;
