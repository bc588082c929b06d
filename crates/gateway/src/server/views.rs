//! What the API answers with: serializable, documented shapes made from the
//! read side's types.

use chrono::{DateTime, Utc};
use maos_projections::audit::{AuditEntry, CausationTree};
use maos_projections::board::{AgentStats, TaskRow, WorkflowSummary};
use maos_projections::history::Checkpoint;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A workflow accepted; its events are durable.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SubmittedView {
    pub workflow_id: Uuid,
    pub correlation_id: Uuid,
    /// The workflow stream's version after the command.
    pub version: u64,
}

impl From<maos_actors::Submitted> for SubmittedView {
    fn from(s: maos_actors::Submitted) -> Self {
        SubmittedView {
            workflow_id: s.workflow_id.0,
            correlation_id: s.correlation_id,
            version: s.version,
        }
    }
}

/// A command applied to a workflow or agent.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CommandDone {
    /// The workflow or agent the command went to.
    pub id: Uuid,
    /// Its stream's version after the command.
    pub version: u64,
}

/// An agent registered (or updated by registering it again).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AgentRegistered {
    pub agent_id: Uuid,
    pub name: String,
}

/// One workflow at a glance.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct WorkflowView {
    pub workflow_id: String,
    pub name: Option<String>,
    /// Lifecycle status, or `escalated` while a task waits for a human.
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

impl From<WorkflowSummary> for WorkflowView {
    fn from(s: WorkflowSummary) -> Self {
        WorkflowView {
            workflow_id: s.workflow_id,
            name: s.name,
            status: s.status,
            correlation_id: s.correlation_id,
            submitted_at: s.submitted_at,
            started_at: s.started_at,
            finished_at: s.finished_at,
            duration_ms: s.duration_ms,
            reason: s.reason,
            tasks: s.tasks,
        }
    }
}

/// A workflow: its summary (from the board; absent until projected) and its
/// current state (folded from its events).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct WorkflowDetail {
    pub summary: Option<WorkflowView>,
    pub state: maos_domain::workflow::WorkflowState,
}

/// One task on the board.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TaskView {
    pub workflow_id: String,
    pub task_id: String,
    pub capability: Option<String>,
    pub status: String,
    pub assignee: Option<String>,
    pub attempt: i64,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub last_error: Option<String>,
}

impl From<TaskRow> for TaskView {
    fn from(t: TaskRow) -> Self {
        TaskView {
            workflow_id: t.workflow_id,
            task_id: t.task_id,
            capability: t.capability,
            status: t.status,
            assignee: t.assignee,
            attempt: t.attempt,
            started_at: t.started_at,
            finished_at: t.finished_at,
            duration_ms: t.duration_ms,
            last_error: t.last_error,
        }
    }
}

/// An agent's record on one capability.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StatsView {
    pub capability: String,
    pub completed: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub reassigned: u64,
    pub success_per_mille: Option<u32>,
    pub mean_duration_ms: Option<i64>,
    pub p95_duration_ms: Option<i64>,
    pub load: u64,
}

impl From<AgentStats> for StatsView {
    fn from(s: AgentStats) -> Self {
        StatsView {
            capability: s.capability,
            completed: s.completed,
            failed: s.failed,
            timed_out: s.timed_out,
            reassigned: s.reassigned,
            success_per_mille: s.success_per_mille,
            mean_duration_ms: s.mean_duration_ms,
            p95_duration_ms: s.p95_duration_ms,
            load: s.load,
        }
    }
}

/// An agent: its state (folded from its events) and its stats.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AgentView {
    pub agent_id: String,
    pub state: maos_domain::agent::AgentState,
    pub stats: Vec<StatsView>,
}

/// One event in the audit log.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AuditView {
    pub position: u64,
    pub id: Uuid,
    pub stream: String,
    pub event_type: String,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    pub user_id: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

impl From<AuditEntry> for AuditView {
    fn from(e: AuditEntry) -> Self {
        AuditView {
            position: e.position,
            id: e.id,
            stream: e.stream,
            event_type: e.event_type,
            correlation_id: e.correlation_id,
            causation_id: e.causation_id,
            user_id: e.user_id,
            recorded_at: e.recorded_at,
        }
    }
}

/// An effect in a causation tree, `depth` levels below the event.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct EffectView {
    pub depth: u32,
    pub entry: AuditView,
}

/// An event with its causes (first recorded cause first) and its effects.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TreeView {
    pub causes: Vec<AuditView>,
    pub event: AuditView,
    pub effects: Vec<EffectView>,
}

impl From<CausationTree> for TreeView {
    fn from(t: CausationTree) -> Self {
        TreeView {
            causes: t.causes.into_iter().map(Into::into).collect(),
            event: t.event.into(),
            effects: t
                .effects
                .into_iter()
                .map(|(depth, entry)| EffectView {
                    depth,
                    entry: entry.into(),
                })
                .collect(),
        }
    }
}

/// A workflow checkpoint: its state right after this event.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CheckpointView {
    pub version: u64,
    pub position: u64,
    pub event_type: String,
    pub recorded_at: DateTime<Utc>,
}

impl From<Checkpoint> for CheckpointView {
    fn from(c: Checkpoint) -> Self {
        CheckpointView {
            version: c.version,
            position: c.position,
            event_type: c.event_type,
            recorded_at: c.recorded_at,
        }
    }
}

/// A projector: what it is doing and how far behind the log it is.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ProjectionView {
    pub name: String,
    /// `starting`, `running` or `retrying`.
    pub state: String,
    pub error: Option<String>,
    pub checkpoint: u64,
    pub lag: u64,
}
