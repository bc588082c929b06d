-- Positions up to which named readers of the global log (relays) are done.
CREATE TABLE maos_checkpoints (
    name       TEXT        PRIMARY KEY,
    position   BIGINT      NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
