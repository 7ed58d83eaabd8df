-- Keeps the planner from sorting the whole backlog for a batch (the partial index is in seq order), until the pipeline's implicit transaction ends. No parameters.
SELECT set_config('enable_sort', 'off', true)
