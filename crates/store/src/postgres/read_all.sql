SELECT position, id, stream, version, event_type, recorded_at, source, data::text, metadata::text
FROM maos_events
WHERE position > $1
ORDER BY position
LIMIT $2
