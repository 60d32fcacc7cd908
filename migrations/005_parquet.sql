-- Parquet: a third format, with codecs of its own. Which codec goes with which format is the
-- application's rule (FORMAT_COMPRESSIONS in common/contracts/delivery.ts); the table only keeps
-- out names no format knows.
ALTER TABLE datasets
  DROP CONSTRAINT datasets_format_check,
  DROP CONSTRAINT datasets_compression_check;
ALTER TABLE datasets
  ADD CONSTRAINT datasets_format_check CHECK (format IN ('csv', 'jsonl', 'parquet')),
  ADD CONSTRAINT datasets_compression_check CHECK (compression IN ('gzip', 'none', 'snappy', 'zstd'));
