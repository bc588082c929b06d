-- The audit log's correlation and causation ids are `uuid`s, as the log's
-- event ids are: 16 bytes instead of 36 characters, so the rows and their
-- indexes are smaller and sort faster (a rebuild builds these indexes
-- anew), and a causation walk compares an id with the log's directly.
-- Rebuilding the table here also rebuilds its indexes.
ALTER TABLE maos_audit
    ALTER COLUMN correlation_id TYPE uuid USING correlation_id::uuid,
    ALTER COLUMN causation_id TYPE uuid USING causation_id::uuid;
