//! Domain refusals. These are answers, not failures: a command that breaks a
//! rule is refused with one of these and nothing is recorded.

use crate::ids::{AgentId, Attempt, TaskId};
use crate::workflow::{SpecError, TaskStatus, WorkflowStatus};

/// Why `decide` refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The workflow spec (or tasks added by a planner) is invalid.
    #[error("invalid workflow spec: {0}")]
    InvalidSpec(#[from] SpecError),
    /// The command needs a workflow that has been submitted.
    #[error("workflow has not been submitted")]
    WorkflowNotSubmitted,
    /// Submit was sent to a workflow that already exists.
    #[error("workflow has already been submitted")]
    WorkflowAlreadySubmitted,
    /// The workflow is in a state where this command does not apply.
    #[error("workflow is {status}; {action} is not allowed")]
    WorkflowNotActive {
        status: WorkflowStatus,
        action: &'static str,
    },
    /// The named task does not exist in the workflow.
    #[error("unknown task {0}")]
    UnknownTask(TaskId),
    /// The task is in a state where this command does not apply.
    #[error("task {task} is {status}; {action} is not allowed")]
    IllegalTaskTransition {
        task: TaskId,
        status: TaskStatus,
        action: &'static str,
    },
    /// A message about an attempt that is not the task's live attempt.
    #[error("task {task} attempt {attempt} is not the live attempt (current attempt {current})")]
    NotCurrentAttempt {
        task: TaskId,
        attempt: Attempt,
        current: Attempt,
    },
    /// A retry was asked for before its back-off elapsed.
    #[error("task {task} may not be retried before {not_before}")]
    BackoffNotElapsed {
        task: TaskId,
        not_before: chrono::DateTime<chrono::Utc>,
    },
    /// A time-out was reported before the attempt's deadline.
    #[error("task {task} attempt {attempt} has not reached its deadline {deadline}")]
    DeadlineNotReached {
        task: TaskId,
        attempt: Attempt,
        deadline: chrono::DateTime<chrono::Utc>,
    },
    /// Only tasks with the `planning` capability may add tasks.
    #[error("task {0} is not a planning task and cannot add tasks")]
    NotAPlanner(TaskId),
    /// The chosen agent is not an eligible candidate for the task.
    #[error("agent {agent} is not an eligible candidate for task {task}")]
    AgentNotEligible { agent: AgentId, task: TaskId },
    /// The agent command needs a registered agent.
    #[error("agent is not registered")]
    AgentNotRegistered,
    /// Register was sent to an agent that already exists.
    #[error("agent is already registered")]
    AgentAlreadyRegistered,
    /// The agent was retired; it takes no more commands.
    #[error("agent is retired")]
    AgentRetired,
    /// An agent definition is invalid (no capabilities, zero concurrency...).
    #[error("invalid agent: {0}")]
    InvalidAgent(String),
}

/// A stream name or event type that does not follow the naming rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Stream names are `<category>-<id>`: lower-case category, non-empty id.
    #[error("malformed stream name {name:?}: {reason}")]
    Stream { name: String, reason: &'static str },
    /// Event types are `<domain>.<entity>.<action>` in lower snake case.
    #[error("malformed event type {name:?}: {reason}")]
    EventType { name: String, reason: &'static str },
    /// A type pattern that can't be used (see `TypePattern`).
    #[error("invalid type pattern {pattern:?}: {reason}")]
    TypePattern {
        pattern: String,
        reason: &'static str,
    },
}

/// A stored event that can't be turned back into a domain event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The type is not one this category knows.
    #[error("unknown event type {0:?}")]
    UnknownType(String),
    /// The data does not match the payload of its type.
    #[error("event {event_type} has malformed data: {reason}")]
    MalformedData { event_type: String, reason: String },
}
