-- The waiting dead letters, oldest first. $1 at most this many. Columns: id, consumer.
SELECT id, consumer FROM dead_letters WHERE replayed_at IS NULL ORDER BY id LIMIT $1
