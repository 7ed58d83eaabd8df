-- Whether a transaction committed: 'committed', 'aborted', 'in progress', or NULL (too old to know). $1 its id (xid8 as text). Column: status.
SELECT pg_xact_status($1::xid8) AS status
