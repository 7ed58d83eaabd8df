-- Adds one event per task to the outbox ($1 aggregate type, $2 event name, $3 version, $4 correlation id, $5 time, $6 task ids, $7 protobuf bodies built by the caller, $8 traceparent of the shuffle call or NULL).
INSERT INTO outbox (id, aggregate_type, aggregate_id, event_type, event_version, payload,
  correlation_id, causation_id, occurred_at, traceparent)
SELECT gen_random_uuid(), $1, u.task_id, $2, $3, u.payload, $4, '', $5, $8
FROM unnest($6::text[], $7::bytea[]) AS u(task_id, payload)
