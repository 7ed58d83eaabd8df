-- Stores key $1's secret sealed: $2 ciphertext, $3 nonce.
UPDATE signing_keys SET secret = $2, secret_nonce = $3 WHERE kid = $1
