-- The balance of account $1 (no row: never posted to, so 0).
SELECT balance_cents FROM balances WHERE account_id = $1
