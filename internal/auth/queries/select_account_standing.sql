-- What decides whether a token of account $1 is still good.
SELECT version, active, role FROM accounts WHERE id = $1
