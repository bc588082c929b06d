//! The workflow board: one row per workflow (`maos_workflows`), per task
//! (`maos_tasks`), per attempt (`maos_attempts`) and per agent
//! (`maos_agents`), and the queries over them — task boards, workflow
//! summaries, agent stats, the agent directory.
//!
//! Each workflow event names the status it leads to (the log only holds
//! legal transitions), so the model needs no memory of earlier events.
//! Derived figures (counts per status, durations, success rates, load) are
//! computed when queried.

use crate::db::{self, Filter, check_limit, check_one_of, int, text};
use crate::{Cell, Change, Error, ReadModel};
use chrono::{DateTime, Utc};
use maos_domain::workflow::WorkflowEvent as E;
use maos_domain::{Attempt, TaskId, WorkflowId};
use maos_store::{RecordedEvent, Store};
use std::collections::BTreeMap;

/// Largest page a board query returns.
pub const MAX_PAGE: usize = 1_000;

/// The workflow board read model.
#[derive(Debug, Clone, Copy, Default)]
pub struct WorkflowBoard;

impl ReadModel for WorkflowBoard {
    fn name(&self) -> &'static str {
        "workflow_board"
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "maos_workflows",
            "maos_tasks",
            "maos_attempts",
            "maos_agents",
        ]
    }

    fn changes(&self, envelope: &RecordedEvent, out: &mut Vec<Change>) -> Result<(), Error> {
        if let Some(agent) = envelope.stream.strip_prefix("agent-") {
            crate::agent_directory::changes(agent, envelope, out);
            return Ok(());
        }
        let Some(workflow) = envelope.stream.strip_prefix("workflow-") else {
            return Ok(());
        };
        // Events this version does not know (or cannot read) change no row.
        let Ok(event) = E::from_json(&envelope.event_type, &envelope.data) else {
            return Ok(());
        };
        let rows = Rows { workflow, out };
        rows.apply(&event, envelope)
    }
}

pub(crate) fn time(t: DateTime<Utc>) -> Cell {
    Cell::int(t.timestamp_micros())
}

pub(crate) fn status(s: &str) -> (&'static str, Cell) {
    ("status", Cell::text(s))
}

/// Builds the row changes of one event of one workflow.
struct Rows<'a> {
    workflow: &'a str,
    out: &'a mut Vec<Change>,
}

impl Rows<'_> {
    fn workflow(&mut self, set: Vec<(&'static str, Cell)>) {
        self.out.push(Change::Upsert {
            table: "maos_workflows",
            key: vec![("workflow_id", Cell::text(self.workflow))],
            set,
        });
    }

    fn task(&mut self, task: &TaskId, set: Vec<(&'static str, Cell)>) {
        self.out.push(Change::Upsert {
            table: "maos_tasks",
            key: vec![
                ("workflow_id", Cell::text(self.workflow)),
                ("task_id", Cell::text(task.0.clone())),
            ],
            set,
        });
    }

    fn attempt(&mut self, task: &TaskId, attempt: Attempt, set: Vec<(&'static str, Cell)>) {
        self.out.push(Change::Upsert {
            table: "maos_attempts",
            key: vec![
                ("workflow_id", Cell::text(self.workflow)),
                ("task_id", Cell::text(task.0.clone())),
                ("attempt", Cell::int(attempt.0)),
            ],
            set,
        });
    }

    fn new_task(&mut self, task: &maos_domain::workflow::TaskSpec) {
        self.task(
            &task.id,
            vec![
                ("capability", Cell::text(task.capability.0.clone())),
                status("pending"),
                ("attempt", Cell::int(0)),
            ],
        );
    }

    fn apply(mut self, event: &E, envelope: &RecordedEvent) -> Result<(), Error> {
        match event {
            E::Submitted(e) => {
                self.workflow(vec![
                    ("name", Cell::text(e.spec.name.clone())),
                    status("submitted"),
                    (
                        "correlation_id",
                        Cell::text(envelope.decode_metadata()?.correlation_id.to_string()),
                    ),
                    ("submitted_at", time(e.submitted_at)),
                ]);
                for task in &e.spec.tasks {
                    self.new_task(task);
                }
            }
            E::Started(e) => {
                self.workflow(vec![status("running"), ("started_at", time(e.started_at))])
            }
            E::Completed(e) => self.workflow(vec![
                status("completed"),
                ("finished_at", time(e.completed_at)),
            ]),
            E::Failed(e) => self.workflow(vec![
                status("failed"),
                ("finished_at", time(e.failed_at)),
                ("reason", Cell::text(e.reason.clone())),
            ]),
            E::Cancelled(e) => self.workflow(vec![
                status("cancelled"),
                ("finished_at", time(e.cancelled_at)),
                ("reason", Cell::text(e.reason.clone())),
            ]),
            // Escalation shows through the tasks (see `workflow_summary`).
            E::Escalated(_) | E::InputReceived(_) => {}
            E::TaskAdded(e) => self.new_task(&e.task),
            E::TaskReady(e) => self.task(&e.task_id, vec![status("ready")]),
            E::TaskAssigned(e) => {
                self.task(
                    &e.task_id,
                    vec![
                        status("assigned"),
                        ("assignee", Cell::text(e.agent_id.to_string())),
                        ("attempt", Cell::int(e.attempt.0)),
                    ],
                );
                self.attempt(
                    &e.task_id,
                    e.attempt,
                    vec![
                        ("agent_id", Cell::text(e.agent_id.to_string())),
                        ("assigned_at", time(e.assigned_at)),
                    ],
                );
            }
            E::TaskStarted(e) => {
                self.task(
                    &e.task_id,
                    vec![status("running"), ("started_at", time(e.started_at))],
                );
                self.attempt(
                    &e.task_id,
                    e.attempt,
                    vec![("started_at", time(e.started_at))],
                );
            }
            E::TaskCompleted(e) => {
                self.task(
                    &e.task_id,
                    vec![status("completed"), ("finished_at", time(e.completed_at))],
                );
                if !e.overridden {
                    self.attempt(
                        &e.task_id,
                        e.attempt,
                        vec![
                            ("finished_at", time(e.completed_at)),
                            ("outcome", Cell::text("completed")),
                        ],
                    );
                }
            }
            E::TaskFailed(e) => {
                self.task(
                    &e.task_id,
                    vec![
                        status("failed"),
                        ("last_error", Cell::text(e.error.clone())),
                    ],
                );
                self.attempt(
                    &e.task_id,
                    e.attempt,
                    vec![
                        ("finished_at", time(e.failed_at)),
                        ("outcome", Cell::text("failed")),
                    ],
                );
            }
            E::TaskTimedOut(e) => {
                let error = format!("attempt {} timed out", e.attempt);
                self.task(
                    &e.task_id,
                    vec![status("failed"), ("last_error", Cell::text(error))],
                );
                self.attempt(
                    &e.task_id,
                    e.attempt,
                    vec![
                        ("finished_at", time(e.deadline)),
                        ("outcome", Cell::text("timed_out")),
                    ],
                );
            }
            E::TaskRetryScheduled(e) => self.task(&e.task_id, vec![status("retry_waiting")]),
            E::TaskReassigned(e) => {
                self.task(
                    &e.task_id,
                    vec![status("ready"), ("assignee", Cell::Text(None))],
                );
                self.attempt(
                    &e.task_id,
                    e.attempt,
                    vec![
                        ("finished_at", time(envelope.timestamp)),
                        ("outcome", Cell::text("reassigned")),
                    ],
                );
            }
            E::TaskEscalated(e) => self.task(&e.task_id, vec![status("escalated")]),
            E::TaskSkipped(e) => self.task(&e.task_id, vec![status("skipped")]),
            E::TaskCancelled(e) => self.task(&e.task_id, vec![status("cancelled")]),
            E::TaskCarriedOver(e) => self.task(&e.task_id, vec![status("completed")]),
            E::TaskProgressed(_) | E::TaskResultRejected(_) => {}
        }
        Ok(())
    }
}

/// One task on the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRow {
    pub workflow_id: String,
    pub task_id: String,
    pub capability: Option<String>,
    pub status: String,
    pub assignee: Option<String>,
    pub attempt: i64,
    /// When the latest attempt started.
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// From the latest start to the finish.
    pub duration_ms: Option<i64>,
    pub last_error: Option<String>,
}

/// Which tasks; pages are in (workflow, task) order after `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskQuery {
    pub workflow_id: Option<WorkflowId>,
    pub status: Option<String>,
    pub assignee: Option<String>,
    pub capability: Option<String>,
    /// The (workflow, task) the previous page ended with.
    pub after: Option<(String, String)>,
    pub limit: usize,
}

impl Default for TaskQuery {
    fn default() -> Self {
        TaskQuery {
            workflow_id: None,
            status: None,
            assignee: None,
            capability: None,
            after: None,
            limit: 100,
        }
    }
}

const TASK_STATUSES: &[&str] = &[
    "pending",
    "ready",
    "assigned",
    "running",
    "retry_waiting",
    "failed",
    "escalated",
    "completed",
    "skipped",
    "cancelled",
];

/// A page of the task board.
pub async fn tasks(store: &Store, q: &TaskQuery) -> Result<Vec<TaskRow>, Error> {
    let limit = check_limit(q.limit, MAX_PAGE)?;
    if let Some(s) = &q.status {
        check_one_of("task status", s, TASK_STATUSES)?;
    }
    let mut filter = Filter::default();
    let columns = [
        ("workflow_id", q.workflow_id.map(|w| w.0.to_string())),
        ("status", q.status.clone()),
        ("assignee", q.assignee.clone()),
        ("capability", q.capability.clone()),
    ];
    for (column, value) in columns {
        if let Some(value) = value {
            filter.and(Cell::text(value), |p| format!("{column} = {p}"));
        }
    }
    if let Some((w, t)) = &q.after {
        filter.and_pair(Cell::text(w.clone()), Cell::text(t.clone()), |a, b| {
            format!("(workflow_id > {a} OR (workflow_id = {a} AND task_id > {b}))")
        });
    }
    let (filter, limit, params) = filter.finish(limit);
    let sql = format!(
        "SELECT workflow_id, task_id, capability, status, assignee, attempt, started_at, finished_at, last_error \
         FROM maos_tasks {filter} ORDER BY workflow_id, task_id LIMIT {limit}"
    );
    let rows = db::fetch(store, sql, params).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let started_at = int(&r[6]).and_then(DateTime::from_timestamp_micros);
            let finished_at = int(&r[7]).and_then(DateTime::from_timestamp_micros);
            TaskRow {
                workflow_id: text(&r[0]).unwrap_or_default(),
                task_id: text(&r[1]).unwrap_or_default(),
                capability: text(&r[2]),
                status: text(&r[3]).unwrap_or_default(),
                assignee: text(&r[4]),
                attempt: int(&r[5]).unwrap_or(0),
                duration_ms: started_at
                    .zip(finished_at)
                    .map(|(s, f)| (f - s).num_milliseconds()),
                started_at,
                finished_at,
                last_error: text(&r[8]),
            }
        })
        .collect())
}

/// One workflow at a glance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowSummary {
    pub workflow_id: String,
    pub name: Option<String>,
    /// Its lifecycle status, or `escalated` while a task waits for a human.
    pub status: String,
    pub correlation_id: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub reason: Option<String>,
    /// Tasks per status.
    pub tasks: BTreeMap<String, i64>,
}

/// The summary of one workflow, or `None` if the board has none.
pub async fn workflow_summary(
    store: &Store,
    id: WorkflowId,
) -> Result<Option<WorkflowSummary>, Error> {
    let key = Cell::text(id.0.to_string());
    let rows = db::fetch(
        store,
        "SELECT workflow_id, name, status, correlation_id, submitted_at, started_at, finished_at, reason \
         FROM maos_workflows WHERE workflow_id = $1"
            .to_owned(),
        vec![key.clone()],
    )
    .await?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let counts = db::fetch(
        store,
        "SELECT status, COUNT(*) FROM maos_tasks WHERE workflow_id = $1 GROUP BY status".to_owned(),
        vec![key],
    )
    .await?;
    let tasks: BTreeMap<String, i64> = counts
        .iter()
        .filter_map(|c| Some((text(&c[0])?, int(&c[1])?)))
        .collect();
    let lifecycle = text(&r[2]).unwrap_or_default();
    let active = lifecycle == "running" || lifecycle == "submitted";
    let status = if active && tasks.contains_key("escalated") {
        "escalated".to_owned()
    } else {
        lifecycle
    };
    let started_at = int(&r[5]).and_then(DateTime::from_timestamp_micros);
    let finished_at = int(&r[6]).and_then(DateTime::from_timestamp_micros);
    Ok(Some(WorkflowSummary {
        workflow_id: text(&r[0]).unwrap_or_default(),
        name: text(&r[1]),
        status,
        correlation_id: text(&r[3]),
        submitted_at: int(&r[4]).and_then(DateTime::from_timestamp_micros),
        duration_ms: started_at
            .zip(finished_at)
            .map(|(s, f)| (f - s).num_milliseconds()),
        started_at,
        finished_at,
        reason: text(&r[7]),
        tasks,
    }))
}

/// An agent's record on one capability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentStats {
    pub agent_id: String,
    pub capability: String,
    pub completed: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub reassigned: u64,
    /// Completed out of finished (completed, failed, timed out), in per mille.
    pub success_per_mille: Option<u32>,
    /// Of completed attempts, from start to finish.
    pub mean_duration_ms: Option<i64>,
    pub p95_duration_ms: Option<i64>,
    /// Attempts the agent holds now.
    pub load: u64,
}

impl AgentStats {
    /// The record DELEGATE's scoring takes as an agent's history on this
    /// capability (a time-out counts as a failure).
    pub fn history(&self) -> maos_domain::scoring::History {
        maos_domain::scoring::History {
            completed: self.completed,
            failed: self.failed + self.timed_out,
            mean_duration_ms: self
                .mean_duration_ms
                .and_then(|ms| u64::try_from(ms).ok())
                .unwrap_or(0),
        }
    }
}

/// Stats per agent and capability (of one agent, if given), in agent and
/// capability order. These are what DELEGATE's scoring reads as history.
pub async fn agent_stats(store: &Store, agent: Option<&str>) -> Result<Vec<AgentStats>, Error> {
    match agent {
        Some(a) => agents_stats(store, &[a]).await,
        None => stats_where(store, String::new(), Vec::new()).await,
    }
}

/// Stats per agent and capability of the agents named (a page of a
/// listing), in agent and capability order: one query for all of them.
pub async fn agents_stats(store: &Store, agents: &[&str]) -> Result<Vec<AgentStats>, Error> {
    if agents.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=agents.len()).map(|n| format!("${n}")).collect();
    let filter = format!("WHERE a.agent_id IN ({})", placeholders.join(", "));
    let params = agents.iter().map(|a| Cell::text(*a)).collect();
    stats_where(store, filter, params).await
}

async fn stats_where(
    store: &Store,
    filter: String,
    params: Vec<Cell>,
) -> Result<Vec<AgentStats>, Error> {
    let sql = format!(
        "SELECT a.agent_id, t.capability, a.outcome, a.started_at, a.finished_at \
         FROM maos_attempts AS a JOIN maos_tasks AS t ON t.workflow_id = a.workflow_id AND t.task_id = a.task_id \
         {filter}"
    );
    let rows = db::fetch(store, sql, params).await?;
    let mut by_key: BTreeMap<(String, String), (AgentStats, Vec<i64>)> = BTreeMap::new();
    for r in &rows {
        let (Some(agent_id), capability) = (text(&r[0]), text(&r[1]).unwrap_or_default()) else {
            continue;
        };
        let (stats, durations) = by_key
            .entry((agent_id.clone(), capability.clone()))
            .or_insert_with(|| {
                (
                    AgentStats {
                        agent_id,
                        capability,
                        completed: 0,
                        failed: 0,
                        timed_out: 0,
                        reassigned: 0,
                        success_per_mille: None,
                        mean_duration_ms: None,
                        p95_duration_ms: None,
                        load: 0,
                    },
                    Vec::new(),
                )
            });
        match text(&r[2]).as_deref() {
            Some("completed") => {
                stats.completed += 1;
                if let (Some(s), Some(f)) = (int(&r[3]), int(&r[4])) {
                    durations.push((f - s) / 1000);
                }
            }
            Some("failed") => stats.failed += 1,
            Some("timed_out") => stats.timed_out += 1,
            Some("reassigned") => stats.reassigned += 1,
            _ => stats.load += 1,
        }
    }
    Ok(by_key
        .into_values()
        .map(|(mut stats, mut durations)| {
            let finished = stats.completed + stats.failed + stats.timed_out;
            stats.success_per_mille = (finished > 0)
                .then(|| u32::try_from(stats.completed * 1000 / finished).unwrap_or(1000));
            if !durations.is_empty() {
                durations.sort_unstable();
                let n = durations.len();
                stats.mean_duration_ms = Some(durations.iter().sum::<i64>() / n as i64);
                stats.p95_duration_ms = Some(durations[(n * 95).div_ceil(100).clamp(1, n) - 1]);
            }
            stats
        })
        .collect())
}

/// Which workflows; newest first, after the workflow id `before` ended the
/// previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowQuery {
    /// A lifecycle status (`submitted`, `running`, `completed`, `failed`,
    /// `cancelled`).
    pub status: Option<String>,
    pub before: Option<WorkflowId>,
    pub limit: usize,
}

impl Default for WorkflowQuery {
    fn default() -> Self {
        WorkflowQuery {
            status: None,
            before: None,
            limit: 50,
        }
    }
}

const WORKFLOW_STATUSES: &[&str] = &["submitted", "running", "completed", "failed", "cancelled"];

/// A page of workflow summaries, newest first.
pub async fn workflows(store: &Store, q: &WorkflowQuery) -> Result<Vec<WorkflowSummary>, Error> {
    let limit = check_limit(q.limit, MAX_PAGE)?;
    let mut filter = Filter::default();
    if let Some(s) = &q.status {
        check_one_of("workflow status", s, WORKFLOW_STATUSES)?;
        filter.and(Cell::text(s.clone()), |p| format!("status = {p}"));
    }
    if let Some(before) = q.before {
        filter.and(Cell::text(before.0.to_string()), |p| {
            format!("workflow_id < {p}")
        });
    }
    let (filter, limit, params) = filter.finish(limit);
    let sql = format!(
        "SELECT workflow_id FROM maos_workflows {filter} ORDER BY workflow_id DESC LIMIT {limit}"
    );
    let ids = db::fetch(store, sql, params).await?;
    let mut out = Vec::with_capacity(ids.len());
    for row in &ids {
        let Some(id) = text(&row[0]).and_then(|t| uuid::Uuid::parse_str(&t).ok()) else {
            continue;
        };
        if let Some(summary) = workflow_summary(store, WorkflowId(id)).await? {
            out.push(summary);
        }
    }
    Ok(out)
}
