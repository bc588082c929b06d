//! Messages between the node's actors. Crate-private: callers use `Node`.

use crate::agent_actor::AgentActor;
use crate::executor::{Job, Outcome};
use actix::prelude::*;
use actix::{WeakAddr, WeakRecipient};
use maos_domain::scoring::CandidateScore;
use maos_domain::{AgentId, Attempt, Capability, TaskId, WorkflowId};
use std::time::Instant;

/// What an agent reports about an attempt.
#[derive(Debug, Clone)]
pub(crate) enum Report {
    Started,
    Progress(String),
    Finished(Outcome),
}

/// An agent's report to the workflow that owns the attempt.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct AttemptReport {
    pub task_id: TaskId,
    pub attempt: Attempt,
    pub report: Report,
}

/// A workflow asks for an agent for a ready task.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct RequestAgent {
    pub workflow_id: WorkflowId,
    pub task_id: TaskId,
    pub capability: Capability,
    pub avoid: Option<AgentId>,
    pub reply_to: WeakRecipient<Granted>,
    pub owner: WeakRecipient<TakeBack>,
    pub requested_at: Instant,
}

/// The dispatcher reserved a slot on `agent_id` for the task.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct Granted {
    pub task_id: TaskId,
    pub agent_id: AgentId,
    pub agent: WeakAddr<AgentActor>,
    pub candidates: Vec<CandidateScore>,
    pub requested_at: Instant,
}

/// How an attempt that held a slot ended, for the agent's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The grant was not used (the task moved on meanwhile).
    Unused,
    Succeeded {
        duration_ms: u64,
    },
    Failed,
    /// Ended without a verdict on the agent (cancelled, skipped,
    /// reassigned, escalated by the agent).
    Neutral,
}

/// A workflow gives back the slot its task held.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct Release {
    pub workflow_id: WorkflowId,
    pub task_id: TaskId,
    pub ending: Ending,
}

/// A workflow (rehydrated) says its task holds a slot on `agent_id`.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct Occupy {
    pub workflow_id: WorkflowId,
    pub task_id: TaskId,
    pub agent_id: AgentId,
    pub owner: WeakRecipient<TakeBack>,
}

/// A workflow no longer wants an agent for the task.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct Withdraw {
    pub workflow_id: WorkflowId,
    pub task_id: TaskId,
}

/// The dispatcher asks a workflow to take the task away from its agent
/// (the agent became unhealthy).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct TakeBack {
    pub task_id: TaskId,
    pub reason: String,
}

/// An agent actor is (again) able to take work, or changed.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct AgentUp {
    pub agent_id: AgentId,
    pub addr: WeakAddr<AgentActor>,
    pub capabilities: std::sync::Arc<[Capability]>,
    pub max_concurrency: u32,
    pub healthy: bool,
}

/// An agent actor stopped for good (retired, or gave up restarting).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct AgentDown {
    pub agent_id: AgentId,
}

/// Run one attempt.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct RunTask {
    pub job: Job,
    pub reply_to: WeakRecipient<AttemptReport>,
}

/// Stop an attempt (timed out, cancelled, reassigned): kill its process.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct AbortTask {
    pub workflow_id: WorkflowId,
    pub task_id: TaskId,
    pub attempt: Attempt,
}

/// An agent command from the node's API or the dispatcher.
#[derive(Debug, Message)]
#[rtype(result = "Result<u64, crate::Error>")]
pub(crate) struct AgentCommandMsg {
    pub command: maos_domain::agent::AgentCommand,
    pub context: crate::CommandContext,
}
