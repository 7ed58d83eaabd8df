-- Keys still stored in plaintext (SealedKeyRows with a NULL nonce), locked to be sealed.
SELECT kid, secret, secret_nonce AS nonce FROM signing_keys WHERE secret_nonce IS NULL FOR UPDATE
