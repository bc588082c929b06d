INSERT INTO maos_events (position, id, stream, version, event_type, recorded_at, source, data, metadata)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
