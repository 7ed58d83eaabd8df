-- Read models built only from events; every column is filled by whichever
-- event carries it, in any order.
CREATE TABLE IF NOT EXISTS task_facts (
  task_id        uuid        PRIMARY KEY,
  title          text,
  jira_id        text,
  fee_cents      bigint,
  reward_cents   bigint,
  completed_at   timestamptz,
  completed_date date
);
CREATE INDEX IF NOT EXISTS task_facts_completed ON task_facts (completed_date, reward_cents DESC)
  WHERE completed_date IS NOT NULL AND reward_cents IS NOT NULL;

-- Management earnings per business day (from billing.transaction.applied).
CREATE TABLE IF NOT EXISTS day_earnings (
  business_date date   PRIMARY KEY,
  fees_cents    bigint NOT NULL DEFAULT 0,
  rewards_cents bigint NOT NULL DEFAULT 0
);

-- Net postings per account and business day, payouts included: the balance at
-- the end of day D is the sum over days <= D.
CREATE TABLE IF NOT EXISTS account_day_totals (
  account_id    uuid   NOT NULL,
  business_date date   NOT NULL,
  amount_cents  bigint NOT NULL,
  PRIMARY KEY (account_id, business_date)
);
