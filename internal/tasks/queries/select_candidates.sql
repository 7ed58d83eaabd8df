-- The accounts a task may go to (active workers and accountants) with login and name, by id. No parameters.
SELECT id, login, full_name FROM accounts_replica WHERE active AND role IN ('worker', 'accountant') ORDER BY id
