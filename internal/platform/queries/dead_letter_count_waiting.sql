-- Dead letters not replayed yet, by consumer (the ates_dead_letters gauge). Columns: consumer, waiting.
SELECT consumer, count(*) AS waiting FROM dead_letters WHERE replayed_at IS NULL GROUP BY consumer
