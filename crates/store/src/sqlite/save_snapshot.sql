INSERT INTO maos_snapshots (stream, version, state, taken_at)
VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (stream) DO UPDATE
SET version = excluded.version, state = excluded.state, taken_at = excluded.taken_at
WHERE excluded.version >= maos_snapshots.version
