-- Dead-letters a batch's poison events (once per stream sequence). $1 consumer, $2.. arrays: event_id, subject, event_type, event_version, stream_seq, deliveries, reason, headers, payload.
INSERT INTO dead_letters (consumer, event_id, subject, event_type, event_version, stream_seq,
                          deliveries, reason, headers, payload)
SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[],
                         $7::int[], $8::text[], $9::text[], $10::bytea[])
    ON CONFLICT (consumer, stream_seq) DO NOTHING
