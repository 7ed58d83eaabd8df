-- How many accounts a task may go to (active workers and accountants). No parameters.
SELECT count(*) AS candidates FROM accounts_replica
WHERE active AND role IN ('worker', 'accountant')
