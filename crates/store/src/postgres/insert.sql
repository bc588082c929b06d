-- Inserts a whole batch from column arrays, moves the position counter and
-- queues the wake-up (delivered at commit) in one round trip.
WITH inserted AS (
    INSERT INTO maos_events (position, id, stream, version, event_type, recorded_at, source, data, metadata)
    SELECT u.position, u.id, u.stream, u.version, u.event_type, u.recorded_at, u.source,
           u.data::json, u.metadata::json
    FROM unnest($1::int8[], $2::uuid[], $3::text[], $4::int8[], $5::text[],
                $6::timestamptz[], $7::text[], $8::text[], $9::text[])
        AS u(position, id, stream, version, event_type, recorded_at, source, data, metadata)
), moved AS (
    UPDATE maos_global_position SET position = $10 WHERE id = 1
)
SELECT pg_notify('maos_events', $10::text)
