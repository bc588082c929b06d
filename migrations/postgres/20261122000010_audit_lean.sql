-- The audit log keeps no copy of event ids and streams: the log's own
-- unique indexes find an event by id and a stream's events in order, and
-- audit queries join the log by position for them. Causation and user
-- indexes leave out the rows without one (most events have no user; a
-- request's first event has no cause): a query looks for a value, never
-- for NULL.
DROP INDEX IF EXISTS maos_audit_id;
DROP INDEX IF EXISTS maos_audit_stream;
ALTER TABLE maos_audit DROP COLUMN id;
ALTER TABLE maos_audit DROP COLUMN stream;
DROP INDEX IF EXISTS maos_audit_causation;
CREATE INDEX maos_audit_causation ON maos_audit (causation_id) WHERE causation_id IS NOT NULL;
DROP INDEX IF EXISTS maos_audit_user;
CREATE INDEX maos_audit_user ON maos_audit (user_id, position) WHERE user_id IS NOT NULL;
-- A rebuild cut short may have set these aside; they are gone or made above.
DELETE FROM maos_deferred_indexes
    WHERE name IN ('maos_audit_id', 'maos_audit_stream', 'maos_audit_causation', 'maos_audit_user');
