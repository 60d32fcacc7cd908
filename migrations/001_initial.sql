-- Profiles: one end user each. Every property, destination keys included, lives in
-- one jsonb map so datasets can bind any of them as :name parameters.
CREATE TABLE profiles (
  id          text PRIMARY KEY,
  properties  jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE datasets (
  id           text PRIMARY KEY,
  sql          text NOT NULL,
  key_columns  text[] NOT NULL CHECK (cardinality(key_columns) > 0),
  format       text NOT NULL CHECK (format IN ('csv', 'jsonl')),
  compression  text NOT NULL CHECK (compression IN ('gzip', 'none')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Deliveries keep profile and dataset ids as plain text, not foreign keys: the
-- history of what was sent must outlive a deleted profile or dataset.
CREATE TABLE deliveries (
  id                text PRIMARY KEY,
  workflow_id       text NOT NULL UNIQUE,
  profile_id        text NOT NULL,
  dataset_id        text NOT NULL,
  format            text NOT NULL,
  compression       text NOT NULL,
  status            text NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled')),
  bucket            text,
  folder            text,
  manifest_key      text,
  assumed_role_arn  text,
  rows              bigint NOT NULL DEFAULT 0,
  bytes             bigint NOT NULL DEFAULT 0,
  uploaded_bytes    bigint NOT NULL DEFAULT 0,
  error_type        text,
  error_message     text,
  started_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  completed_at      timestamptz
);
CREATE INDEX deliveries_status_idx ON deliveries (status, started_at DESC);
CREATE INDEX deliveries_profile_idx ON deliveries (profile_id, started_at DESC);
CREATE INDEX deliveries_dataset_idx ON deliveries (dataset_id, started_at DESC);

CREATE TABLE delivery_files (
  delivery_id   text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  file_index    integer NOT NULL,
  key           text NOT NULL,
  bytes         bigint NOT NULL,
  rows          bigint NOT NULL,
  sha256        text NOT NULL,
  completed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (delivery_id, file_index)
);
