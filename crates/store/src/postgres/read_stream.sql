SELECT position, id, stream, version, event_type, recorded_at, source, data::text, metadata::text
FROM maos_events
WHERE stream = $1 AND version > $2
ORDER BY version
LIMIT $3
