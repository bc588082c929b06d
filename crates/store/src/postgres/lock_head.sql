-- Serializes writers: held until commit. Must be its own statement: in READ
-- COMMITTED the next statement then takes a snapshot that already holds
-- everything the previous lock holder committed.
SELECT position FROM maos_global_position WHERE id = 1 FOR UPDATE
