-- Large shares: a delivery is cut into key ranges, one file each. The ranges live
-- here rather than in workflow history, so a delivery of thousands of files keeps
-- its history small.
CREATE TABLE delivery_ranges (
  delivery_id  text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  range_index  integer NOT NULL,
  -- Text renderings of the key columns of the range's last row; NULL for the last range.
  upper_key    text[],
  PRIMARY KEY (delivery_id, range_index)
);

-- Where an interrupted file upload stands: enough to continue the same multipart
-- upload without reading anything back from S3 (the role may only write).
CREATE TABLE delivery_checkpoints (
  delivery_id  text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  file_index   integer NOT NULL,
  key          text NOT NULL,
  upload_id    text NOT NULL,
  parts        jsonb NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (delivery_id, file_index)
);

ALTER TABLE deliveries
  ADD COLUMN max_file_bytes bigint,
  ADD COLUMN file_count integer,
  ADD COLUMN estimated_rows bigint,
  -- Multipart uploads a cancel could not abort (the role lacked s3:AbortMultipartUpload).
  ADD COLUMN unaborted_uploads jsonb NOT NULL DEFAULT '[]';
