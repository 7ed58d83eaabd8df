-- Adds fees charged and rewards paid to business days ($1 dates, $2 fees, $3 rewards, in cents).
INSERT INTO day_earnings (business_date, fees_cents, rewards_cents)
SELECT * FROM unnest($1::date[], $2::bigint[], $3::bigint[])
ON CONFLICT (business_date) DO UPDATE SET
  fees_cents = day_earnings.fees_cents + EXCLUDED.fees_cents,
  rewards_cents = day_earnings.rewards_cents + EXCLUDED.rewards_cents
