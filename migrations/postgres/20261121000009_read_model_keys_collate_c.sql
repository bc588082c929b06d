-- The read models' text keys (ids, names of statuses, types, streams)
-- compare byte by byte, as on SQLite: with the database's default
-- collation every b-tree comparison went through the C library's strcoll
-- and index builds sorted without abbreviated keys. The order of these
-- ASCII keys is the same either way, so pages come out as before.
ALTER TABLE maos_audit
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN stream TYPE text COLLATE "C",
    ALTER COLUMN event_type TYPE text COLLATE "C",
    ALTER COLUMN correlation_id TYPE text COLLATE "C",
    ALTER COLUMN causation_id TYPE text COLLATE "C",
    ALTER COLUMN user_id TYPE text COLLATE "C";
ALTER TABLE maos_workflows
    ALTER COLUMN workflow_id TYPE text COLLATE "C",
    ALTER COLUMN status TYPE text COLLATE "C",
    ALTER COLUMN correlation_id TYPE text COLLATE "C";
ALTER TABLE maos_tasks
    ALTER COLUMN workflow_id TYPE text COLLATE "C",
    ALTER COLUMN task_id TYPE text COLLATE "C",
    ALTER COLUMN capability TYPE text COLLATE "C",
    ALTER COLUMN status TYPE text COLLATE "C",
    ALTER COLUMN assignee TYPE text COLLATE "C";
ALTER TABLE maos_attempts
    ALTER COLUMN workflow_id TYPE text COLLATE "C",
    ALTER COLUMN task_id TYPE text COLLATE "C",
    ALTER COLUMN agent_id TYPE text COLLATE "C",
    ALTER COLUMN outcome TYPE text COLLATE "C";
ALTER TABLE maos_agents
    ALTER COLUMN agent_id TYPE text COLLATE "C",
    ALTER COLUMN status TYPE text COLLATE "C";
