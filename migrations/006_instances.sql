-- Instances: one sharer deployment each (its partition and region, the AWS principal end users
-- trust, and the Temporal task queue its workers poll). A profile belongs to one through its
-- s3_instance property, or through its role's partition when one instance alone serves it.
-- No rows: datashare behaves as before instances (DATASHARE_TASK_QUEUE, DATASHARE_SHARER_PRINCIPAL_ARN).
CREATE TABLE instances (
  name text PRIMARY KEY,
  partition text NOT NULL CHECK (partition IN ('aws', 'aws-us-gov', 'aws-cn')),
  region text NOT NULL,
  principal_arn text NOT NULL,
  task_queue text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
