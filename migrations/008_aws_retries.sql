-- Retries a delivery's AWS calls needed (SDK attempts beyond the first, re-sends on ExpiredToken,
-- and activity attempts beyond the first): throttling and flaky S3 show in the delivery and in its
-- scheduled round's result.
ALTER TABLE deliveries ADD COLUMN aws_retries integer NOT NULL DEFAULT 0;
