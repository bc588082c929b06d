//! Workflow commands: imperative requests that `decide` turns into events.
//! Every input that needs I/O (the clock, candidate scores) is a field.

use super::events::{HumanDecision, Usage};
use super::spec::{TaskSpec, WorkflowSpec};
use crate::ids::{AgentId, Attempt, TaskId, WorkflowId};
use crate::scoring::CandidateScore;
use chrono::{DateTime, Utc};

/// Something asked of a workflow.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkflowCommand {
    /// Create the workflow from a spec and start it.
    Submit {
        workflow_id: WorkflowId,
        spec: WorkflowSpec,
        now: DateTime<Utc>,
    },
    /// Give the task's next attempt to `agent_id`, chosen among `candidates`
    /// (as scored by [`crate::scoring::score_candidates`]).
    AssignTask {
        task_id: TaskId,
        agent_id: AgentId,
        candidates: Vec<CandidateScore>,
        now: DateTime<Utc>,
    },
    /// The agent began the attempt.
    StartTask {
        task_id: TaskId,
        attempt: Attempt,
        now: DateTime<Utc>,
    },
    /// A progress note from the attempt.
    ReportProgress {
        task_id: TaskId,
        attempt: Attempt,
        message: String,
    },
    /// The attempt succeeded. A planning task may add tasks.
    CompleteTask {
        task_id: TaskId,
        attempt: Attempt,
        output: serde_json::Value,
        usage: Usage,
        added_tasks: Vec<TaskSpec>,
        now: DateTime<Utc>,
    },
    /// The attempt failed.
    FailTask {
        task_id: TaskId,
        attempt: Attempt,
        error: String,
        now: DateTime<Utc>,
    },
    /// The attempt passed its deadline.
    TimeOutTask {
        task_id: TaskId,
        attempt: Attempt,
        now: DateTime<Utc>,
    },
    /// The agent says it cannot go on without a human.
    ReportBlocked {
        task_id: TaskId,
        attempt: Attempt,
        reason: String,
    },
    /// Take the attempt away from its agent (e.g. the agent is unhealthy).
    ReassignTask {
        task_id: TaskId,
        attempt: Attempt,
        reason: String,
    },
    /// A human answers an escalated task.
    ResolveEscalation {
        task_id: TaskId,
        decision: HumanDecision,
        now: DateTime<Utc>,
    },
    /// Stop the workflow; running attempts are abandoned.
    Cancel { reason: String, now: DateTime<Utc> },
    /// Start a new workflow from `origin`'s state at a checkpoint: tasks
    /// completed there keep their outputs and do not run again; the rest
    /// run anew.
    Fork {
        workflow_id: WorkflowId,
        origin: super::events::ForkOrigin,
        /// The origin's state at `origin.version`.
        at_origin: Box<super::state::WorkflowState>,
        now: DateTime<Utc>,
    },
}
