-- A dead letter applied again (atesctl dlq replay) is kept for the record.
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS replayed_at timestamptz;
CREATE INDEX IF NOT EXISTS dead_letters_waiting ON dead_letters (id) WHERE replayed_at IS NULL;
