SELECT position FROM maos_checkpoints WHERE name = $1
