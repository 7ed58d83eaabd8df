-- A migration may rewrite a big table: no statement limit in its transaction. No parameters.
SET LOCAL statement_timeout = 0
