-- Positions up to which named readers of the global log (relays) are done.
CREATE TABLE maos_checkpoints (
    name       TEXT    PRIMARY KEY,
    position   INTEGER NOT NULL,
    updated_at INTEGER NOT NULL -- microseconds since the Unix epoch, UTC
) WITHOUT ROWID;
