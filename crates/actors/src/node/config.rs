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
    /// A workflow's snapshot is saved every this many events (default 100),
    /// or every `snapshot_events_per_task` events per task of the workflow
    /// where that is more.
    pub snapshot_every: u64,
    /// See `snapshot_every` (default 4: about one event of each kind a
    /// task goes through). A snapshot's size grows with the workflow's
    /// tasks, so spacing snapshots by it keeps their bytes a bounded share
    /// of what the workflow writes (every 100 events, a 300-task workflow's
    /// snapshots outweighed its events and each held up the appends queued
    /// behind it for milliseconds); a restart still replays at most that
    /// many events after the snapshot.
    pub snapshot_events_per_task: u64,
    /// Where DELEGATE reads agents' records; `None`: the node's own.
    pub history: Option<Arc<dyn AgentHistory>>,
    /// Names this node in events' `source` (`<node>/<actor>`).
    pub node_name: String,
}

impl NodeConfig {
    /// Events between snapshots of a workflow of `tasks` tasks.
    pub fn snapshot_interval(&self, tasks: usize) -> u64 {
        let tasks = u64::try_from(tasks).unwrap_or(u64::MAX);
        self.snapshot_every
            .max(tasks.saturating_mul(self.snapshot_events_per_task))
    }
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
            snapshot_events_per_task: 4,
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

#[cfg(test)]
mod tests {
    use super::NodeConfig;

    #[test]
    fn snapshots_are_spaced_by_the_workflows_size() {
        let config = NodeConfig::default();
        assert_eq!(config.snapshot_interval(3), 100);
        assert_eq!(config.snapshot_interval(300), 1_200);
        let fixed = NodeConfig {
            snapshot_events_per_task: 0,
            ..NodeConfig::default()
        };
        assert_eq!(fixed.snapshot_interval(300), 100);
    }
}
