//! Workflow stream events (`workflows.workflow.*`, `workflows.task.*`): one
//! payload struct per event, in the past tense, recording why.

use super::spec::{TaskSpec, WorkflowSpec};
use crate::event_enum::event_enum;
use crate::ids::{AgentId, Attempt, TaskId, WorkflowId};
use crate::scoring::CandidateScore;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

event_enum! {
    /// Everything that can happen to a workflow and its tasks.
    pub enum WorkflowEvent {
        Submitted(WorkflowSubmitted) => "workflows.workflow.submitted",
        Started(WorkflowStarted) => "workflows.workflow.started",
        Escalated(WorkflowEscalated) => "workflows.workflow.escalated",
        InputReceived(WorkflowInputReceived) => "workflows.workflow.input_received",
        Completed(WorkflowCompleted) => "workflows.workflow.completed",
        Failed(WorkflowFailed) => "workflows.workflow.failed",
        Cancelled(WorkflowCancelled) => "workflows.workflow.cancelled",
        TaskAdded(TaskAdded) => "workflows.task.added",
        TaskReady(TaskReady) => "workflows.task.ready",
        TaskAssigned(TaskAssigned) => "workflows.task.assigned",
        TaskStarted(TaskStarted) => "workflows.task.started",
        TaskProgressed(TaskProgressed) => "workflows.task.progressed",
        TaskCompleted(TaskCompleted) => "workflows.task.completed",
        TaskFailed(TaskFailed) => "workflows.task.failed",
        TaskTimedOut(TaskTimedOut) => "workflows.task.timed_out",
        TaskRetryScheduled(TaskRetryScheduled) => "workflows.task.retry_scheduled",
        TaskReassigned(TaskReassigned) => "workflows.task.reassigned",
        TaskEscalated(TaskEscalated) => "workflows.task.escalated",
        TaskSkipped(TaskSkipped) => "workflows.task.skipped",
        TaskCancelled(TaskCancelled) => "workflows.task.cancelled",
        TaskResultRejected(TaskResultRejected) => "workflows.task.result_rejected",
        TaskCarriedOver(TaskCarriedOver) => "workflows.task.carried_over",
    }
}

/// A user submitted a workflow; the spec is recorded whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WorkflowSubmitted {
    pub workflow_id: WorkflowId,
    pub spec: WorkflowSpec,
    pub submitted_at: DateTime<Utc>,
    /// Set when this workflow was forked from another one's checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forked_from: Option<ForkOrigin>,
}

/// The checkpoint a workflow was forked from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ForkOrigin {
    pub workflow_id: WorkflowId,
    /// The origin's stream version the fork started from.
    pub version: u64,
}

/// The workflow began running: its root tasks follow as `task.ready`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WorkflowStarted {
    pub started_at: DateTime<Utc>,
}

/// The workflow waits for a human because of `task_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WorkflowEscalated {
    pub task_id: TaskId,
    pub reason: String,
}

/// A human answered an escalation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WorkflowInputReceived {
    pub task_id: TaskId,
    pub decision: HumanDecision,
    pub received_at: DateTime<Utc>,
}

/// A human's answer to an escalated task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HumanDecision {
    /// Try again, with a fresh retry budget.
    Retry,
    /// Give up on the task; its dependents proceed.
    Skip,
    /// Treat the task as completed with this output.
    Override { output: serde_json::Value },
    /// Cancel the whole workflow.
    Cancel,
}

/// Every task completed or was skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WorkflowCompleted {
    pub completed_at: DateTime<Utc>,
    pub summary: WorkflowSummary,
}

/// What a finished workflow cost.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct WorkflowSummary {
    /// From `started` to the final event.
    pub duration_ms: u64,
    pub tasks_completed: u32,
    pub tasks_skipped: u32,
    /// Attempts used per task.
    pub attempts: BTreeMap<TaskId, u32>,
    /// Usage summed over all completed attempts.
    pub usage: Usage,
}

/// Resources an attempt used. Integers only: cost is in millionths of the
/// account currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Usage {
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost_micros: u64,
}

impl Usage {
    /// Component-wise sum, saturating.
    pub fn plus(self, other: Usage) -> Usage {
        Usage {
            tokens_in: self.tokens_in.saturating_add(other.tokens_in),
            tokens_out: self.tokens_out.saturating_add(other.tokens_out),
            cost_micros: self.cost_micros.saturating_add(other.cost_micros),
        }
    }
}

/// The workflow failed; `task_id` names the task that caused it, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WorkflowFailed {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<TaskId>,
    pub reason: String,
    pub failed_at: DateTime<Utc>,
}

/// The workflow was cancelled by a user or a human decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WorkflowCancelled {
    pub reason: String,
    pub cancelled_at: DateTime<Utc>,
}

/// A planning task added a task to the DAG.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaskAdded {
    pub task: TaskSpec,
    /// The planning task whose output added it.
    pub added_by: TaskId,
}

/// All of the task's dependencies are done; it may be assigned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaskReady {
    pub task_id: TaskId,
}

/// The task's next attempt went to `agent_id`, chosen among `candidates`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaskAssigned {
    pub task_id: TaskId,
    pub attempt: Attempt,
    pub agent_id: AgentId,
    /// The attempt times out at this instant.
    pub deadline: DateTime<Utc>,
    pub assigned_at: DateTime<Utc>,
    /// Every candidate considered, best first, with its score and reasons.
    pub candidates: Vec<CandidateScore>,
}

/// The agent started working on the attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaskStarted {
    pub task_id: TaskId,
    pub attempt: Attempt,
    pub started_at: DateTime<Utc>,
}

/// A progress note from the running attempt (e.g. an output line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaskProgressed {
    pub task_id: TaskId,
    pub attempt: Attempt,
    pub message: String,
}

/// The task is done. `overridden` marks output supplied by a human.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaskCompleted {
    pub task_id: TaskId,
    pub attempt: Attempt,
    pub output: serde_json::Value,
    pub usage: Usage,
    pub completed_at: DateTime<Utc>,
    #[serde(default)]
    pub overridden: bool,
}

/// The attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaskFailed {
    pub task_id: TaskId,
    pub attempt: Attempt,
    pub error: String,
    pub failed_at: DateTime<Utc>,
}

/// The attempt ran past its deadline and was stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaskTimedOut {
    pub task_id: TaskId,
    pub attempt: Attempt,
    pub deadline: DateTime<Utc>,
}

/// The task will be tried again, not before `not_before`, preferably not on
/// `avoid_agent` (the agent that just failed it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaskRetryScheduled {
    pub task_id: TaskId,
    /// Retries used so far, this one included.
    pub retry: u32,
    pub not_before: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avoid_agent: Option<AgentId>,
}

/// The attempt was taken away from its agent (e.g. the agent became
/// unhealthy); the task is ready for a new attempt elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaskReassigned {
    pub task_id: TaskId,
    pub attempt: Attempt,
    pub from_agent: AgentId,
    pub reason: String,
}

/// The task waits for a human decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaskEscalated {
    pub task_id: TaskId,
    pub reason: String,
}

/// A human skipped the task; its dependents proceed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaskSkipped {
    pub task_id: TaskId,
    pub reason: String,
}

/// The task will not run (its workflow was cancelled or failed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaskCancelled {
    pub task_id: TaskId,
    pub reason: String,
}

/// A result arrived for an attempt that is not current; it was not applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaskResultRejected {
    pub task_id: TaskId,
    pub attempt: Attempt,
    pub current_attempt: Attempt,
    /// `completed`, `failed` or `blocked`: what the stale result said.
    pub result: String,
}

/// A fork took over a task that was completed at its origin: its recorded
/// output stands and it does not run again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaskCarriedOver {
    pub task_id: TaskId,
    pub output: serde_json::Value,
    pub usage: Usage,
}

impl WorkflowEvent {
    /// The task this event is about, if it is a task event.
    pub fn task_id(&self) -> Option<&TaskId> {
        use WorkflowEvent as E;
        match self {
            E::TaskAdded(e) => Some(&e.task.id),
            E::TaskReady(TaskReady { task_id })
            | E::TaskAssigned(TaskAssigned { task_id, .. })
            | E::TaskStarted(TaskStarted { task_id, .. })
            | E::TaskProgressed(TaskProgressed { task_id, .. })
            | E::TaskCompleted(TaskCompleted { task_id, .. })
            | E::TaskFailed(TaskFailed { task_id, .. })
            | E::TaskTimedOut(TaskTimedOut { task_id, .. })
            | E::TaskRetryScheduled(TaskRetryScheduled { task_id, .. })
            | E::TaskReassigned(TaskReassigned { task_id, .. })
            | E::TaskEscalated(TaskEscalated { task_id, .. })
            | E::TaskSkipped(TaskSkipped { task_id, .. })
            | E::TaskCancelled(TaskCancelled { task_id, .. })
            | E::TaskResultRejected(TaskResultRejected { task_id, .. })
            | E::TaskCarriedOver(TaskCarriedOver { task_id, .. }) => Some(task_id),
            E::Submitted(_)
            | E::Started(_)
            | E::Escalated(_)
            | E::InputReceived(_)
            | E::Completed(_)
            | E::Failed(_)
            | E::Cancelled(_) => None,
        }
    }
}
