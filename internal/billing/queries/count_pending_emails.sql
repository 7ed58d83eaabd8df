-- Payout e-mails not sent yet that will still be tried (fewer than $1 attempts): the ates_payout_emails_pending gauge. Column: pending.
SELECT count(*) AS pending FROM payout_emails WHERE sent_at IS NULL AND attempts < $1
