//! A node's settings, and the small types its API takes and returns.

use crate::dispatcher::AgentHistory;
use crate::executor::ExecutorRegistry;
use crate::supervision::RestartPolicy;
use maos_domain::WorkflowId;
use maos_domain::workflow::{WorkflowState, WorkflowStatus};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// How a node behaves. `Default` gives production settings.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Executor kinds agents may use.
    pub executors: ExecutorRegistry,
    /// Restart intensity for agent actors (default 5 in 60 s).
    pub restart_policy: RestartPolicy,
    /// Failed attempts in a row that make an agent unhealthy (default 3).
    pub unhealthy_after: u32,
    /// How long an unhealthy agent rests before it is healthy again
    /// (default 60 s).
    pub recover_after: Duration,
    /// Where workflows' task workspaces are created.
    pub workspace_root: PathBuf,
    /// A workflow's snapshot is saved every this many events (default 100).
    pub snapshot_every: u64,
    /// Where DELEGATE reads agents' records; `None`: the node's own.
    pub history: Option<Arc<dyn AgentHistory>>,
    /// Names this node in events' `source` (`<node>/<actor>`).
    pub node_name: String,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            executors: ExecutorRegistry::default(),
            restart_policy: RestartPolicy::default(),
            unhealthy_after: 3,
            recover_after: Duration::from_secs(60),
            workspace_root: PathBuf::from(".maos/workspaces"),
            snapshot_every: 100,
            history: None,
            node_name: "maos".to_owned(),
        }
    }
}

/// Who issued a command: recorded in its events' metadata.
#[derive(Debug, Clone, Default)]
pub struct CommandContext {
    /// Ties the command's events together; new (or the workflow's) if unset.
    pub correlation_id: Option<Uuid>,
    /// The request or command that caused this one.
    pub causation_id: Option<Uuid>,
    /// The authenticated subject.
    pub user_id: Option<String>,
}

/// A workflow accepted and durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Submitted {
    pub workflow_id: WorkflowId,
    pub correlation_id: Uuid,
    /// The workflow stream's version after the submission.
    pub version: u64,
}

/// How a workflow ended.
#[derive(Debug, Clone)]
pub struct WorkflowOutcome {
    pub status: WorkflowStatus,
    pub state: WorkflowState,
}
