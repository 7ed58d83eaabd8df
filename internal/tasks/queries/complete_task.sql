-- Marks task $1 completed at $2; returns its new version.
UPDATE tasks SET status = 'completed', completed_at = $2, updated_at = $2,
  version = version + 1 WHERE id = $1 RETURNING version
