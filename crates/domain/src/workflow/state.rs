//! The folded state of one workflow: what `decide` looks at.

use super::events::Usage;
use super::spec::{TaskSpec, WorkflowSpec};
use super::transitions::{TaskStatus, WorkflowStatus};
use crate::ids::{AgentId, Attempt, TaskId, WorkflowId};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A workflow as its events left it. Serializable, so it can be
/// snapshotted and shown "as of" any point of its history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WorkflowState {
    pub id: Option<WorkflowId>,
    pub name: String,
    pub input: serde_json::Value,
    pub status: WorkflowStatus,
    /// Tasks by id. A `BTreeMap` keeps iteration, and so every decision,
    /// deterministic. Each task is boxed: a map's node holds room for 11
    /// entries inline, so unboxed a one-task workflow would carry ~4 KiB
    /// of empty slots for as long as it lives (a node keeps every waiting
    /// workflow's state in memory).
    pub tasks: BTreeMap<TaskId, Box<TaskState>>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The checkpoint this workflow was forked from, if any.
    pub forked_from: Option<super::events::ForkOrigin>,
    /// Events folded so far: the stream version this state is at.
    pub version: u64,
}

/// One task as its events left it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaskState {
    pub spec: TaskSpec,
    pub status: TaskStatus,
    /// The current (latest) attempt; 0 before the first assignment.
    pub attempt: Attempt,
    /// The agent holding the current attempt, if one is out.
    pub assignee: Option<AgentId>,
    /// The agent of the latest attempt, kept after it ends: who did (or
    /// last tried) the task.
    #[serde(default)]
    pub last_agent: Option<AgentId>,
    /// When the current attempt times out.
    pub deadline: Option<DateTime<Utc>>,
    /// Failed or timed-out attempts counted against the retry budget.
    pub failures: u32,
    /// The next attempt may not be assigned before this.
    pub retry_not_before: Option<DateTime<Utc>>,
    /// The agent that failed the last attempt; retries prefer another.
    pub avoid_agent: Option<AgentId>,
    pub output: Option<serde_json::Value>,
    pub last_error: Option<String>,
    pub usage: Usage,
    pub first_assigned_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Set when a planning task added this task.
    pub added_by: Option<TaskId>,
}

impl TaskState {
    /// A freshly created task.
    pub fn new(spec: TaskSpec, added_by: Option<TaskId>) -> Self {
        TaskState {
            spec,
            status: TaskStatus::CREATED,
            attempt: Attempt(0),
            assignee: None,
            last_agent: None,
            deadline: None,
            failures: 0,
            retry_not_before: None,
            avoid_agent: None,
            output: None,
            last_error: None,
            usage: Usage::default(),
            first_assigned_at: None,
            finished_at: None,
            added_by,
        }
    }
}

impl WorkflowState {
    /// The spec this state was submitted with plus tasks added since.
    pub fn spec(&self) -> WorkflowSpec {
        WorkflowSpec {
            name: self.name.clone(),
            input: self.input.clone(),
            tasks: self.tasks.values().map(|t| t.spec.clone()).collect(),
        }
    }

    /// The task, or `UnknownTask`.
    pub fn task(&self, id: &TaskId) -> Result<&TaskState, crate::Error> {
        self.tasks
            .get(id)
            .map(|task| &**task)
            .ok_or_else(|| crate::Error::UnknownTask(id.clone()))
    }

    /// Every dependency of `id` is completed or skipped.
    pub fn dependencies_done(&self, id: &TaskId) -> bool {
        self.tasks.get(id).is_some_and(|t| {
            t.spec.needs.iter().all(|d| {
                self.tasks
                    .get(d)
                    .is_some_and(|dep| dep.status.satisfies_dependents())
            })
        })
    }

    /// Tasks that are ready or whose retry may be assigned at `now`.
    pub fn assignable_tasks(&self, now: DateTime<Utc>) -> impl Iterator<Item = &TaskState> {
        self.tasks
            .values()
            .map(|t| &**t)
            .filter(move |t| match t.status {
                TaskStatus::Ready => true,
                TaskStatus::RetryWaiting => t.retry_not_before.is_none_or(|nb| nb <= now),
                _ => false,
            })
    }

    /// Tasks with an attempt out, with their deadlines: what a monitor must
    /// watch (also after a restart).
    pub fn live_attempts(&self) -> impl Iterator<Item = &TaskState> {
        self.tasks
            .values()
            .map(|t| &**t)
            .filter(|t| t.status.has_live_attempt())
    }
}
