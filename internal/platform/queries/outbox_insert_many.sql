-- Adds many events to the outbox in one statement (bulk changes such as a shuffle). $1..$10: arrays of the columns of outbox_insert.sql, in its order.
INSERT INTO outbox (id, aggregate_type, aggregate_id, event_type, event_version, payload,
                    correlation_id, causation_id, occurred_at, traceparent)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[],
                     $6::bytea[], $7::text[], $8::text[], $9::timestamptz[], $10::text[])
