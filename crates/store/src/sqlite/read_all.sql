SELECT position, id, stream, version, event_type, recorded_at, source, data, metadata
FROM maos_events
WHERE position > ?1
ORDER BY position
