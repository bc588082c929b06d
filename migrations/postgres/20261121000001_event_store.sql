-- The append-only event log, its global position counter and snapshots.
--
-- Global order: every writer transaction first locks the single row of
-- maos_global_position, allocates positions after it, and updates it before
-- commit. Writers therefore commit one after another, and each becomes
-- visible before the next can allocate, so positions become visible in
-- order and a reader of the log never skips an event (see ARCHITECTURE.md).
CREATE TABLE maos_events (
    position    BIGINT      PRIMARY KEY,
    id          UUID        NOT NULL UNIQUE,
    stream      TEXT        NOT NULL,
    version     BIGINT      NOT NULL,
    event_type  TEXT        NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    source      TEXT        NOT NULL,
    data        JSONB       NOT NULL,
    metadata    JSONB       NOT NULL,
    UNIQUE (stream, version)
);

CREATE TABLE maos_global_position (
    id       SMALLINT PRIMARY KEY CHECK (id = 1),
    position BIGINT   NOT NULL
);
INSERT INTO maos_global_position (id, position) VALUES (1, 0);

CREATE FUNCTION maos_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'maos_events is append-only';
END
$$;

CREATE TRIGGER maos_events_no_change BEFORE UPDATE OR DELETE ON maos_events
    FOR EACH ROW EXECUTE FUNCTION maos_events_append_only();
CREATE TRIGGER maos_events_no_truncate BEFORE TRUNCATE ON maos_events
    FOR EACH STATEMENT EXECUTE FUNCTION maos_events_append_only();

CREATE TABLE maos_snapshots (
    stream   TEXT        PRIMARY KEY,
    version  BIGINT      NOT NULL,
    state    JSONB       NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL
);
