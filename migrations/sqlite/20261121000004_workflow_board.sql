-- The workflow board read models: one row per workflow, per task and per
-- attempt. Times are microseconds since the Unix epoch, UTC.
CREATE TABLE maos_workflows (
    workflow_id    TEXT    PRIMARY KEY,
    name           TEXT,
    status         TEXT    NOT NULL,
    correlation_id TEXT,
    submitted_at   INTEGER,
    started_at     INTEGER,
    finished_at    INTEGER,
    reason         TEXT
);
CREATE INDEX maos_workflows_status ON maos_workflows (status, workflow_id);

CREATE TABLE maos_tasks (
    workflow_id TEXT    NOT NULL,
    task_id     TEXT    NOT NULL,
    capability  TEXT,
    status      TEXT    NOT NULL,
    assignee    TEXT,
    attempt     INTEGER,
    started_at  INTEGER,
    finished_at INTEGER,
    last_error  TEXT,
    PRIMARY KEY (workflow_id, task_id)
);
CREATE INDEX maos_tasks_status ON maos_tasks (status, workflow_id, task_id);
CREATE INDEX maos_tasks_assignee ON maos_tasks (assignee, workflow_id, task_id);
CREATE INDEX maos_tasks_capability ON maos_tasks (capability, workflow_id, task_id);

CREATE TABLE maos_attempts (
    workflow_id TEXT    NOT NULL,
    task_id     TEXT    NOT NULL,
    attempt     INTEGER    NOT NULL,
    agent_id    TEXT,
    assigned_at INTEGER,
    started_at  INTEGER,
    finished_at INTEGER,
    outcome     TEXT, -- completed, failed, timed_out, reassigned; NULL while out
    PRIMARY KEY (workflow_id, task_id, attempt)
);
CREATE INDEX maos_attempts_agent ON maos_attempts (agent_id, outcome);
