SELECT position, id, stream, version, event_type, recorded_at, source, data, metadata
FROM maos_events
WHERE stream = ?1 AND version > ?2
ORDER BY version
