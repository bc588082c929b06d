//! Identifier newtypes. Ids never travel as bare `Uuid`s or `String`s, so a
//! task id can't be passed where an agent id is expected.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// Identity of one workflow run; its events live in stream `workflow-<id>`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct WorkflowId(pub Uuid);

/// Identity of one registered agent; its events live in stream `agent-<id>`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct AgentId(pub Uuid);

/// A task's id inside its workflow, as written in the spec (`build`, `test-api`).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct TaskId(pub String);

/// What a task needs and an agent offers (`backend`, `qa`, `planning`).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct Capability(pub String);

/// The number of a task's attempt, starting at 1. Results are fenced by it:
/// only the current attempt may complete or fail a task.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(transparent)]
pub struct Attempt(pub u32);

impl Attempt {
    /// The attempt after this one.
    pub fn next(self) -> Attempt {
        Attempt(self.0 + 1)
    }
}

impl WorkflowId {
    /// Stream category of workflow streams. Never changes once events exist.
    pub const CATEGORY: &'static str = "workflow";

    /// The stream that holds this workflow's events.
    pub fn stream(&self) -> String {
        format!("{}-{}", Self::CATEGORY, self.0)
    }
}

impl AgentId {
    /// Stream category of agent streams. Never changes once events exist.
    pub const CATEGORY: &'static str = "agent";

    /// The stream that holds this agent's events.
    pub fn stream(&self) -> String {
        format!("{}-{}", Self::CATEGORY, self.0)
    }
}

impl From<&str> for TaskId {
    fn from(s: &str) -> Self {
        TaskId(s.to_owned())
    }
}

impl From<&str> for Capability {
    fn from(s: &str) -> Self {
        Capability(s.to_owned())
    }
}

macro_rules! display_inner {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    )*};
}
display_inner!(WorkflowId, AgentId, TaskId, Capability, Attempt);
