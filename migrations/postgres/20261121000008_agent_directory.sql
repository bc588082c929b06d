-- The agent directory, part of the workflow board: one row per agent with
-- its status, so agents can be listed (and filtered, and paged) without
-- scanning the log. Times are microseconds since the Unix epoch, UTC.
CREATE TABLE maos_agents (
    agent_id      TEXT    PRIMARY KEY,
    status        TEXT    NOT NULL,
    registered_at BIGINT
);
CREATE INDEX maos_agents_status ON maos_agents (status, agent_id);

-- The board gains a table its checkpoint has not filled: replay it from the
-- start (the projector does so when it next starts).
DELETE FROM maos_workflows;
DELETE FROM maos_tasks;
DELETE FROM maos_attempts;
DELETE FROM maos_checkpoints WHERE name = 'projection.workflow_board';
