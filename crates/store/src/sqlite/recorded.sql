SELECT stream, version, position FROM maos_events WHERE id = ?1
