-- The newest key not retired, sealed (a SealedKeyRow; nonce NULL while still in plaintext).
SELECT kid, secret, secret_nonce AS nonce FROM signing_keys
WHERE retired_at IS NULL
ORDER BY created_at DESC LIMIT 1
