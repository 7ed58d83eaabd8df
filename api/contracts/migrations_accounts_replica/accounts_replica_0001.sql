-- Local copy of the accounts a service needs, fed by ACCOUNTS CUD events.
-- `version` keeps the newest state whatever order the events arrive in.
CREATE TABLE IF NOT EXISTS accounts_replica (
  id         uuid        PRIMARY KEY,
  login      text        NOT NULL,
  full_name  text        NOT NULL,
  email      text        NOT NULL,
  role       text        NOT NULL,
  active     boolean     NOT NULL,
  version    bigint      NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS accounts_replica_assignable ON accounts_replica (id)
  WHERE active AND role IN ('worker', 'accountant');
