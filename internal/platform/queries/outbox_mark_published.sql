-- Marks acknowledged rows published (kept for the retention period). $1 their seqs.
UPDATE outbox SET published_at = now() WHERE seq = ANY($1::bigint[])
