-- Up to $5 transactions (TransactionRows) of account $1 ('' = every account) posted to business
-- dates $2..$3, after seq $4 (the page's cursor), oldest first (by seq), with the account's login
-- and name from accounts_replica ('' while the replica has not seen it).
SELECT t.seq, t.id, t.account_id,
       COALESCE(a.login, '') AS account_login, COALESCE(a.full_name, '') AS account_name,
       t.kind, t.amount_cents,
       COALESCE(t.task_id::text, '') AS task_id,
       COALESCE(p.title, '') AS task_title,
       COALESCE(p.jira_id, '') AS task_jira_id,
       t.business_date::text AS business_date,
       EXTRACT(EPOCH FROM t.occurred_at)::float8 AS occurred_at
FROM transactions t LEFT JOIN task_prices p ON p.task_id = t.task_id
  LEFT JOIN accounts_replica a ON a.id = t.account_id
WHERE ($1 = '' OR t.account_id = $1::uuid) AND t.business_date BETWEEN $2::date AND $3::date
  AND t.seq > $4
ORDER BY t.seq LIMIT $5
