-- Opens the writer's transaction and serializes writers: the row lock is
-- held until commit. The lock is taken in its own statement, before the
-- lookup: in READ COMMITTED the lookup then takes a snapshot that already
-- holds everything the previous lock holder committed. Sent as one simple
-- query (no parameters), so BEGIN and the lock cost one round trip.
BEGIN;
SELECT position FROM maos_global_position WHERE id = 1 FOR UPDATE;
