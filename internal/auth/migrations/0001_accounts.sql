CREATE TABLE IF NOT EXISTS accounts (
  id            uuid        PRIMARY KEY,
  login         text        NOT NULL UNIQUE,
  full_name     text        NOT NULL,
  email         text        NOT NULL,
  role          text        NOT NULL CHECK (role IN ('admin', 'manager', 'accountant', 'worker')),
  active        boolean     NOT NULL DEFAULT true,
  password_hash text        NOT NULL,
  version       bigint      NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Ed25519 signing keys. The newest unretired key signs; every key not retired
-- for longer than a token's lifetime is published for verification.
CREATE TABLE IF NOT EXISTS signing_keys (
  kid        text        PRIMARY KEY,
  secret     bytea       NOT NULL,
  public_key bytea       NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  retired_at timestamptz
);

-- Failed logins per login name (known or not) in the current window.
CREATE TABLE IF NOT EXISTS login_failures (
  login        text        PRIMARY KEY,
  failures     int         NOT NULL,
  window_start timestamptz NOT NULL
);
