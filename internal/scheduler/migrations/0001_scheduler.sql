-- One row per closed business day. The primary key makes each date close once,
-- whichever replica (or operator) gets there first; the event that announced it
-- was written to the outbox in the same transaction.
CREATE TABLE IF NOT EXISTS closed_days (
  business_date date        PRIMARY KEY,
  event_id      uuid        NOT NULL,
  closed_at     timestamptz NOT NULL,
  manual        boolean     NOT NULL
);

-- The calendar's single row: the first business date (nothing before it is
-- closed automatically) and how far the automatic pass has got, so a date an
-- operator closed out of order does not make the pass skip the open days before it.
CREATE TABLE IF NOT EXISTS business_calendar (
  id                  boolean     PRIMARY KEY DEFAULT true CHECK (id),
  first_business_date date        NOT NULL,
  closed_through      date,
  updated_at          timestamptz NOT NULL DEFAULT now()
);
