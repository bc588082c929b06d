SELECT COALESCE(MAX(position), 0) FROM maos_events
