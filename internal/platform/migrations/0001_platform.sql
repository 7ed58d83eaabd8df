-- Transactional outbox (after Debezium's outbox router). `seq` orders rows for
-- the relay; `id` becomes Nats-Msg-Id. Rows are deleted once JetStream acked
-- them, or kept with published_at set when a retention is configured.
CREATE TABLE IF NOT EXISTS outbox (
  seq            bigserial PRIMARY KEY,
  id             uuid        NOT NULL,
  aggregate_type text        NOT NULL,
  aggregate_id   text        NOT NULL,
  event_type     text        NOT NULL,
  event_version  int         NOT NULL,
  payload        bytea       NOT NULL,
  correlation_id text        NOT NULL DEFAULT '',
  causation_id   text        NOT NULL DEFAULT '',
  occurred_at    timestamptz NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  published_at   timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;

-- Inbox (after eventuate-tram): an event id is applied by a consumer at most once.
CREATE TABLE IF NOT EXISTS processed_events (
  consumer     text        NOT NULL,
  event_id     uuid        NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);

-- Messages a consumer gave up on, with the reason, for operators.
CREATE TABLE IF NOT EXISTS dead_letters (
  id            bigserial PRIMARY KEY,
  consumer      text        NOT NULL,
  event_id      text        NOT NULL,
  subject       text        NOT NULL,
  event_type    text        NOT NULL,
  event_version text        NOT NULL,
  stream_seq    bigint      NOT NULL,
  deliveries    int         NOT NULL,
  reason        text        NOT NULL,
  headers       text        NOT NULL,
  payload       bytea       NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (consumer, stream_seq)
);

-- Aborts the statement (and so the whole pipeline or transaction) unless `ok`.
-- Lets a single round trip say "write these events only if the change happened".
CREATE OR REPLACE FUNCTION ates_assert(ok boolean, message text) RETURNS void AS $$
BEGIN
  IF NOT ok THEN
    RAISE EXCEPTION USING ERRCODE = 'AT001', MESSAGE = message;
  END IF;
END
$$ LANGUAGE plpgsql;
