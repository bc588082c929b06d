SELECT position, stream, version, event_type, data
FROM maos_events
WHERE position > ?1
ORDER BY position
