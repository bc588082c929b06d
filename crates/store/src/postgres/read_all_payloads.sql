SELECT position, stream, version, event_type, data::text
FROM maos_events
WHERE position > $1
ORDER BY position
LIMIT $2
