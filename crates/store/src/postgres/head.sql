SELECT position FROM maos_global_position WHERE id = 1
