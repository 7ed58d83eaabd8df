-- The consumer of a waiting dead letter. $1 id. Column: consumer.
SELECT consumer FROM dead_letters WHERE id = $1 AND replayed_at IS NULL
