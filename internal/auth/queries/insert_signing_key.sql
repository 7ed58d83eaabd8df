-- A new key: $1 kid, $2 sealed secret, $3 nonce, $4 public key; nothing when the kid exists.
INSERT INTO signing_keys (kid, secret, secret_nonce, public_key) VALUES ($1, $2, $3, $4)
ON CONFLICT (kid) DO NOTHING
