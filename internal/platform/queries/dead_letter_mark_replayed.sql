-- Marks a dead letter replayed. $1 id.
UPDATE dead_letters SET replayed_at = now() WHERE id = $1
