//! The workflow and task state machines: every legal transition, in one
//! place. `evolve` moves states only through these tables, and the property
//! tests check that `decide` never emits an event they reject.

use super::events::WorkflowEvent;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a task is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Waiting for dependencies.
    Pending,
    /// Dependencies done; waiting for an agent.
    Ready,
    /// Given to an agent; not yet started.
    Assigned,
    /// The agent is working on it.
    Running,
    /// The last attempt failed; a retry waits for its back-off.
    RetryWaiting,
    /// An attempt failed and nothing else was decided: terminal unless a
    /// retry or escalation follows in the same decision.
    Failed,
    /// Waiting for a human decision.
    Escalated,
    Completed,
    Skipped,
    Cancelled,
}

/// Where a workflow is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkflowStatus {
    /// No `submitted` event yet.
    #[default]
    NotSubmitted,
    Submitted,
    Running,
    /// At least one task waits for a human; the others keep running.
    Escalated,
    Completed,
    Failed,
    Cancelled,
}

impl TaskStatus {
    /// The task will not change any more.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Skipped | Self::Cancelled | Self::Failed
        )
    }

    /// Dependents may proceed.
    pub fn satisfies_dependents(self) -> bool {
        matches!(self, Self::Completed | Self::Skipped)
    }

    /// An attempt is out with an agent.
    pub fn has_live_attempt(self) -> bool {
        matches!(self, Self::Assigned | Self::Running)
    }

    /// The status a task event moves a task to from `from` (`None`: the task
    /// does not exist yet), or `None` when the transition is illegal.
    /// Events that are not about a task return `None`.
    pub fn after(from: Option<TaskStatus>, event: &WorkflowEvent) -> Option<TaskStatus> {
        use TaskStatus as S;
        use WorkflowEvent as E;
        let Some(from) = from else {
            return matches!(event, E::TaskAdded(_)).then_some(Self::CREATED);
        };
        match (from, event) {
            (S::Pending | S::Escalated, E::TaskReady(_)) => Some(S::Ready),
            (S::Ready | S::RetryWaiting, E::TaskAssigned(_)) => Some(S::Assigned),
            (S::Assigned, E::TaskStarted(_)) => Some(S::Running),
            (s @ (S::Assigned | S::Running), E::TaskProgressed(_)) => Some(s),
            (S::Assigned | S::Running | S::Escalated, E::TaskCompleted(_)) => Some(S::Completed),
            (S::Pending, E::TaskCarriedOver(_)) => Some(S::Completed),
            (S::Assigned | S::Running, E::TaskFailed(_) | E::TaskTimedOut(_)) => Some(S::Failed),
            (S::Failed, E::TaskRetryScheduled(_)) => Some(S::RetryWaiting),
            (S::Assigned | S::Running, E::TaskReassigned(_)) => Some(S::Ready),
            (S::Failed | S::Assigned | S::Running, E::TaskEscalated(_)) => Some(S::Escalated),
            (S::Escalated, E::TaskSkipped(_)) => Some(S::Skipped),
            (s, E::TaskCancelled(_)) if !s.is_terminal() => Some(S::Cancelled),
            (s, E::TaskResultRejected(_)) => Some(s),
            _ => None,
        }
    }

    /// The status of a task created by `submitted` or `task.added`.
    pub const CREATED: TaskStatus = TaskStatus::Pending;
}

impl WorkflowStatus {
    /// Tasks may be assigned, run and finish.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Running | Self::Escalated)
    }

    /// The workflow will not change any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }

    /// The status a workflow event moves a workflow to, or `None` when the
    /// transition is illegal. `other_tasks_escalated` says whether a task
    /// other than the one a human just answered still waits for a human.
    /// Task events leave the workflow status as it is.
    pub fn after(
        self,
        event: &WorkflowEvent,
        other_tasks_escalated: bool,
    ) -> Option<WorkflowStatus> {
        use WorkflowEvent as E;
        use WorkflowStatus as S;
        match (self, event) {
            (S::NotSubmitted, E::Submitted(_)) => Some(S::Submitted),
            (S::Submitted, E::Started(_)) => Some(S::Running),
            (S::Running | S::Escalated, E::Escalated(_)) => Some(S::Escalated),
            (S::Escalated, E::InputReceived(_)) if other_tasks_escalated => Some(S::Escalated),
            (S::Escalated, E::InputReceived(_)) => Some(S::Running),
            (S::Running, E::Completed(_)) => Some(S::Completed),
            (S::Running | S::Escalated, E::Failed(_)) => Some(S::Failed),
            (S::Submitted | S::Running | S::Escalated, E::Cancelled(_)) => Some(S::Cancelled),
            (s, e) if e.task_id().is_some() && s.is_active() => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::Pending => "pending",
            Self::Ready => "ready",
            Self::Assigned => "assigned",
            Self::Running => "running",
            Self::RetryWaiting => "retry_waiting",
            Self::Failed => "failed",
            Self::Escalated => "escalated",
            Self::Completed => "completed",
            Self::Skipped => "skipped",
            Self::Cancelled => "cancelled",
        };
        f.write_str(s)
    }
}

impl fmt::Display for WorkflowStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::NotSubmitted => "not_submitted",
            Self::Submitted => "submitted",
            Self::Running => "running",
            Self::Escalated => "escalated",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        };
        f.write_str(s)
    }
}
