-- Webhooks: other systems learn that a delivery completed, failed or was cancelled.
-- The signing secret is stored encrypted (AES-256-GCM under a key derived from
-- DATASHARE_SECRET_KEY, common/infra/secret-box.ts); only its holder can sign.
CREATE TABLE webhooks (
  id                text PRIMARY KEY,
  url               text NOT NULL,
  events            text[] NOT NULL CHECK (cardinality(events) > 0 AND events <@ ARRAY['completed', 'failed', 'cancelled']),
  -- NULL matches every dataset / profile.
  dataset_id        text,
  profile_id        text,
  secret_encrypted  text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now()
);

-- Every try at sending one event of one delivery to one webhook. No foreign key to
-- webhooks: what was sent outlives a deleted webhook, as deliveries outlive profiles.
CREATE TABLE webhook_attempts (
  id            bigserial PRIMARY KEY,
  webhook_id    text NOT NULL,
  delivery_id   text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  event         text NOT NULL,
  -- Which run of the delivery the event is about (a replay sends its own).
  run_key       text NOT NULL,
  attempt       integer NOT NULL,
  outcome       text NOT NULL CHECK (outcome IN ('delivered', 'failed', 'rejected')),
  status_code   integer,
  error         text,
  at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, at);

-- The schedule a delivery ran for, so "seconds since the last success" can be
-- measured per schedule from this table (worker/fleet-gauges.ts).
ALTER TABLE deliveries ADD COLUMN schedule_id text;
CREATE INDEX deliveries_schedule_success_idx ON deliveries (schedule_id, completed_at DESC)
  WHERE schedule_id IS NOT NULL AND status = 'completed';
