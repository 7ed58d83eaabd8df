-- Takes acknowledged rows off the outbox (retention 0). $1 their seqs.
DELETE FROM outbox WHERE seq = ANY($1::bigint[])
