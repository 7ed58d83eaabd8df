-- Up to $5 transactions (TransactionRows) of account $1 posted to business dates $2..$3, after seq $4 (the page token), by seq.
SELECT t.seq, t.id, t.account_id, t.kind, t.amount_cents,
       COALESCE(t.task_id::text, '') AS task_id,
       COALESCE(p.title, '') AS task_title,
       COALESCE(p.jira_id, '') AS task_jira_id,
       t.business_date::text AS business_date,
       EXTRACT(EPOCH FROM t.occurred_at)::float8 AS occurred_at
FROM transactions t LEFT JOIN task_prices p ON p.task_id = t.task_id
WHERE t.account_id = $1 AND t.business_date BETWEEN $2::date AND $3::date AND t.seq > $4
ORDER BY t.seq LIMIT $5
