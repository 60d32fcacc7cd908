-- Incremental datasets: each delivery to an end user carries the rows whose
-- incremental column moved past the last completed delivery's watermark.
ALTER TABLE datasets
  ADD COLUMN incremental_column text,
  ADD COLUMN lookback_seconds integer NOT NULL DEFAULT 0 CHECK (lookback_seconds >= 0);

-- A delivery's window is fixed when it is created, so a replay sends exactly the
-- same rows. window_from NULL means "from the beginning" (first or full refresh).
ALTER TABLE deliveries
  ADD COLUMN window_from timestamptz,
  ADD COLUMN window_to timestamptz,
  ADD COLUMN full_refresh boolean NOT NULL DEFAULT false,
  ADD COLUMN attempt integer NOT NULL DEFAULT 1,
  ADD COLUMN attempt_started_at timestamptz NOT NULL DEFAULT now();

CREATE INDEX deliveries_watermark_idx ON deliveries (profile_id, dataset_id, window_to) WHERE status = 'completed';

-- Every earlier attempt of a replayed delivery: when it ran and how it ended.
CREATE TABLE delivery_attempts (
  delivery_id    text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  attempt        integer NOT NULL,
  started_at     timestamptz NOT NULL,
  ended_at       timestamptz,
  status         text NOT NULL,
  error_type     text,
  error_message  text,
  PRIMARY KEY (delivery_id, attempt)
);
