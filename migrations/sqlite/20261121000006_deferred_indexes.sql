-- Secondary indexes of read-model tables set aside while a rebuild fills
-- them (building an index once at the end is faster than keeping it up to
-- date row by row). Each is made again from its definition when the
-- rebuild ends, or when a projector of its table starts after a rebuild
-- was cut short.
CREATE TABLE maos_deferred_indexes (
    name       TEXT PRIMARY KEY,
    table_name TEXT NOT NULL,
    definition TEXT NOT NULL
);
