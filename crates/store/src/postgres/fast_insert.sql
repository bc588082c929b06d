-- The fast path: a whole batch in one autocommit statement, one round trip.
-- The UPDATE takes the position row lock (held until this statement's
-- implicit commit, serializing writers as lock_head.sql does) and allocates
-- the batch's positions from the counter's latest committed value. The
-- INSERT reads nothing, so no snapshot can be stale; versions come from the
-- writer's cache, and a stale one (another node appended) or a repeated id
-- fails the unique constraints, which sends the batch to the slow path.
WITH head AS (
    UPDATE maos_global_position SET position = position + $9 WHERE id = 1
    RETURNING position - $9 AS base
), inserted AS (
    INSERT INTO maos_events (position, id, stream, version, event_type, recorded_at, source, data, metadata)
    SELECT head.base + u.ord, u.id, u.stream, u.version, u.event_type, u.recorded_at, u.source,
           u.data::json, u.metadata::json
    FROM head,
         unnest($1::uuid[], $2::text[], $3::int8[], $4::text[], $5::timestamptz[], $6::text[],
                $7::text[], $8::text[]) WITH ORDINALITY
             AS u(id, stream, version, event_type, recorded_at, source, data, metadata, ord)
)
SELECT base, pg_notify('maos_events', (base + $9)::text) FROM head
