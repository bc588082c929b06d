//! Why a node operation failed.

use maos_domain::{AgentId, WorkflowId};

/// Errors of the actors crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The domain refused the command; nothing was recorded.
    #[error(transparent)]
    Refused(#[from] maos_domain::Error),
    /// The event store failed or refused the append.
    #[error("event store: {0}")]
    Store(#[from] maos_store::Error),
    /// A workflow spec that can't be parsed; the message names the task and field.
    #[error("invalid workflow spec: {0}")]
    Spec(String),
    /// An agents file or agent definition that can't be used.
    #[error("invalid agent definition: {0}")]
    AgentConfig(String),
    /// No live workflow with this id on this node.
    #[error("workflow {0} is not known to this node")]
    UnknownWorkflow(WorkflowId),
    /// No agent with this id on this node.
    #[error("agent {0} is not known to this node")]
    UnknownAgent(AgentId),
    /// A stored event could not be decoded.
    #[error("stored event can't be read: {0}")]
    Decode(String),
    /// The actor that should answer is gone (node shutting down, or it gave
    /// up restarting).
    #[error("{0} is not running")]
    NotRunning(String),
}
