-- The next outbox rows to publish, in outbox order. $1 batch size, $2 seqs of the batch before (acknowledged, not yet taken off).
SELECT seq, id, event_type, event_version, payload, correlation_id, causation_id,
       to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at,
       aggregate_id, COALESCE(traceparent, '') AS traceparent
  FROM outbox
 WHERE published_at IS NULL AND seq <> ALL($2::bigint[])
 ORDER BY seq
 LIMIT $1
