-- The audit log read model: every event's position, stream, type and
-- causes, indexed for the audit queries.
CREATE TABLE maos_audit (
    position       BIGINT PRIMARY KEY,
    id             TEXT   NOT NULL,
    stream         TEXT   NOT NULL,
    event_type     TEXT   NOT NULL,
    correlation_id TEXT   NOT NULL,
    causation_id   TEXT,
    user_id        TEXT,
    recorded_at    BIGINT NOT NULL -- microseconds since the Unix epoch, UTC
);
CREATE INDEX maos_audit_id ON maos_audit (id);
CREATE INDEX maos_audit_stream ON maos_audit (stream, position);
CREATE INDEX maos_audit_type ON maos_audit (event_type, position);
CREATE INDEX maos_audit_correlation ON maos_audit (correlation_id, position);
CREATE INDEX maos_audit_causation ON maos_audit (causation_id);
CREATE INDEX maos_audit_user ON maos_audit (user_id, position);
CREATE INDEX maos_audit_time ON maos_audit (recorded_at, position);
