SELECT stream, version, state, taken_at FROM maos_snapshots WHERE stream = ?1
