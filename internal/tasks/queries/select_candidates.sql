-- The accounts a task may go to (active workers and accountants), by id. No parameters.
SELECT id FROM accounts_replica WHERE active AND role IN ('worker', 'accountant') ORDER BY id
