-- Prices: set once, by whichever event about a task billing sees first.
CREATE TABLE IF NOT EXISTS task_prices (
  task_id                 uuid        PRIMARY KEY,
  assign_fee_cents        bigint      NOT NULL CHECK (assign_fee_cents BETWEEN 1000 AND 2000),
  completion_reward_cents bigint      NOT NULL CHECK (completion_reward_cents BETWEEN 2000 AND 4000),
  title                   text,
  jira_id                 text,
  priced_at               timestamptz NOT NULL DEFAULT now()
);

-- Closed business days. A posting belongs to the day it happened on, or to
-- the first open day when that one is already closed.
CREATE TABLE IF NOT EXISTS billing_cycles (
  business_date  date        PRIMARY KEY,
  closed_at      timestamptz NOT NULL,
  close_event_id uuid        NOT NULL,
  payouts        int         NOT NULL DEFAULT 0,
  paid_cents     bigint      NOT NULL DEFAULT 0
);

-- One row per ledger transaction, keyed by what caused it: the task event's id
-- for fees and rewards, the payout's id for payouts. Amounts are signed from
-- the account's side.
CREATE TABLE IF NOT EXISTS transactions (
  seq           bigserial   UNIQUE,
  id            uuid        PRIMARY KEY,
  kind          text        NOT NULL CHECK (kind IN ('assign_fee', 'completion_reward', 'payout')),
  account_id    uuid        NOT NULL,
  task_id       uuid,
  amount_cents  bigint      NOT NULL,
  business_date date        NOT NULL,
  occurred_at   timestamptz NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS transactions_account ON transactions (account_id, business_date, seq);
CREATE INDEX IF NOT EXISTS transactions_day ON transactions (business_date, kind);

-- Double entry: each transaction moves money between the account and the
-- company account, so all entries always sum to zero.
CREATE TABLE IF NOT EXISTS ledger_entries (
  id             bigserial PRIMARY KEY,
  transaction_id uuid      NOT NULL REFERENCES transactions (id),
  account_id     uuid      NOT NULL,
  amount_cents   bigint    NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_entries_account ON ledger_entries (account_id);

CREATE TABLE IF NOT EXISTS balances (
  account_id    uuid   PRIMARY KEY,
  balance_cents bigint NOT NULL
);

-- Fees and rewards per account and business day (no payouts): what is due at a
-- close is the balance minus what belongs to later, still open days.
CREATE TABLE IF NOT EXISTS daily_totals (
  account_id    uuid   NOT NULL,
  business_date date   NOT NULL,
  amount_cents  bigint NOT NULL,
  PRIMARY KEY (account_id, business_date)
);

CREATE TABLE IF NOT EXISTS payouts (
  id            uuid        PRIMARY KEY,
  account_id    uuid        NOT NULL,
  business_date date        NOT NULL,
  amount_cents  bigint      NOT NULL CHECK (amount_cents > 0),
  paid_at       timestamptz NOT NULL,
  UNIQUE (account_id, business_date)
);

-- Notification outbox for payout e-mails: one per payout, retried until sent.
CREATE TABLE IF NOT EXISTS payout_emails (
  payout_id       uuid        PRIMARY KEY REFERENCES payouts (id),
  account_id      uuid        NOT NULL,
  amount_cents    bigint      NOT NULL,
  business_date   date        NOT NULL,
  attempts        int         NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz,
  last_error      text
);
CREATE INDEX IF NOT EXISTS payout_emails_pending ON payout_emails (next_attempt_at)
  WHERE sent_at IS NULL;
