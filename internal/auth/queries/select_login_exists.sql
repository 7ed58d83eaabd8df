-- One row when login $1 is taken.
SELECT 1 FROM accounts WHERE login = $1
