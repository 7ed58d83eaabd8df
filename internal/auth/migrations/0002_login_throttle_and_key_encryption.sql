-- Failed-login counters per key: 'login:<name>' and 'addr:<client address>'.
-- One fixed window per key (a throttled key is slowed until window_start +
-- the window, never for longer); rows of ended windows are pruned.
CREATE TABLE IF NOT EXISTS login_throttle (
  key          text        PRIMARY KEY,
  failures     int         NOT NULL,
  window_start timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS login_throttle_window_start ON login_throttle (window_start);
DROP TABLE IF EXISTS login_failures;

-- Private keys are sealed (XChaCha20-Poly1305, the key id as associated data)
-- with the key from ATES_AUTH_KEY_ENCRYPTION_KEY. A NULL nonce marks a row
-- still in plaintext from before: ates-auth seals those at start.
ALTER TABLE signing_keys ADD COLUMN IF NOT EXISTS secret_nonce bytea;
