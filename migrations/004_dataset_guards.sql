-- Tenancy guard: a dataset whose SQL names no profile property sends every end user
-- the same rows. That must now be declared (`dataset set --same-for-everyone`).
-- Every dataset that exists already is marked, so nothing that works today breaks;
-- the next `dataset set` of each declares it afresh.
ALTER TABLE datasets ADD COLUMN same_for_everyone boolean NOT NULL DEFAULT false;
UPDATE datasets SET same_for_everyone = true;

-- Runaway source queries: how long planning, sampling and the time to the first row
-- may take (NULL: the default that the code ships, see common/domain/dataset-guards.ts).
ALTER TABLE datasets ADD COLUMN statement_timeout_ms integer CHECK (statement_timeout_ms > 0);
