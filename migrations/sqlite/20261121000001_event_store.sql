-- The append-only event log, its snapshots. Positions are assigned by the
-- store's writer inside BEGIN IMMEDIATE, so they follow commit order.
CREATE TABLE maos_events (
    position    INTEGER PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,
    stream      TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    event_type  TEXT    NOT NULL,
    recorded_at INTEGER NOT NULL, -- microseconds since the Unix epoch, UTC
    source      TEXT    NOT NULL,
    data        TEXT    NOT NULL, -- JSON object
    metadata    TEXT    NOT NULL, -- JSON object
    UNIQUE (stream, version)
);

CREATE TRIGGER maos_events_no_update BEFORE UPDATE ON maos_events
BEGIN
    SELECT RAISE(ABORT, 'maos_events is append-only');
END;

CREATE TRIGGER maos_events_no_delete BEFORE DELETE ON maos_events
BEGIN
    SELECT RAISE(ABORT, 'maos_events is append-only');
END;

CREATE TABLE maos_snapshots (
    stream   TEXT    PRIMARY KEY,
    version  INTEGER NOT NULL,
    state    TEXT    NOT NULL, -- JSON
    taken_at INTEGER NOT NULL  -- microseconds since the Unix epoch, UTC
) WITHOUT ROWID;
