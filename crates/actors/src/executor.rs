//! Executors: what an agent does with a task.
//!
//! An agent's `executor` setting (recorded in `agents.agent.registered`)
//! names a kind and its settings; an [`ExecutorRegistry`] turns it into an
//! [`Executor`]. Built in:
//! - `process` ([`process::ProcessExecutor`]): runs a command line per task
//!   in a per-task workspace (a coding-agent CLI, or plain shell commands);
//! - `instant` ([`instant::InstantExecutor`]): completes at once. **For
//!   benchmarks and orchestration tests only**: it does no work.
//!
//! More kinds can be registered ([`ExecutorRegistry::register`]).

pub mod instant;
pub mod process;
mod progress;

pub use progress::Progress;

use crate::Error;
use futures_util::future::BoxFuture;
use maos_domain::workflow::{TaskSpec, Usage};
use maos_domain::{Attempt, Capability, TaskId, WorkflowId};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// One attempt of one task, as handed to an executor.
#[derive(Debug, Clone)]
pub struct Job {
    pub workflow_id: WorkflowId,
    pub task_id: TaskId,
    pub attempt: Attempt,
    pub capability: Capability,
    pub instruction: String,
    /// `{"workflow": <workflow input>, "task": id, "attempt": n,
    /// "dependencies": {<id>: <output>}}`.
    pub input: serde_json::Value,
    /// The workflow's directory; each task works in `<dir>/<task id>`.
    pub workflow_dir: PathBuf,
}

impl Job {
    /// The task's own workspace directory.
    pub fn workspace(&self) -> PathBuf {
        self.workflow_dir.join(&self.task_id.0)
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Completed {
        output: serde_json::Value,
        usage: Usage,
        /// Tasks a planning task adds to the workflow.
        added_tasks: Vec<TaskSpec>,
    },
    Failed {
        error: String,
    },
    /// The agent cannot go on without a human.
    Blocked {
        reason: String,
    },
}

impl Outcome {
    /// The workflow command that reports this outcome for `attempt`.
    pub(crate) fn into_command(
        self,
        task_id: TaskId,
        attempt: Attempt,
        now: chrono::DateTime<chrono::Utc>,
    ) -> maos_domain::workflow::WorkflowCommand {
        use maos_domain::workflow::WorkflowCommand as C;
        match self {
            Outcome::Completed {
                output,
                usage,
                added_tasks,
            } => C::CompleteTask {
                task_id,
                attempt,
                output,
                usage,
                added_tasks,
                now,
            },
            Outcome::Failed { error } => C::FailTask {
                task_id,
                attempt,
                error,
                now,
            },
            Outcome::Blocked { reason } => C::ReportBlocked {
                task_id,
                attempt,
                reason,
            },
        }
    }
}

/// Runs tasks. The future is spawned on the multi-threaded runtime;
/// dropping it must stop the work (the process executor kills its process
/// group). A panic inside it is caught and restarts the agent's actor.
pub trait Executor: Send + Sync + std::fmt::Debug + 'static {
    fn run(&self, job: Job, progress: Progress) -> BoxFuture<'static, Outcome>;

    /// At most one progress event per this interval; `None`: the node's
    /// default (500 ms).
    fn progress_interval(&self) -> Option<std::time::Duration> {
        None
    }
}

/// Builds an executor from an agent's `executor` setting.
pub type ExecutorFactory =
    Arc<dyn Fn(&serde_json::Value) -> Result<Arc<dyn Executor>, Error> + Send + Sync>;

/// The executor kinds a node knows.
#[derive(Clone)]
pub struct ExecutorRegistry {
    kinds: BTreeMap<String, ExecutorFactory>,
}

impl std::fmt::Debug for ExecutorRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.kinds.keys()).finish()
    }
}

impl Default for ExecutorRegistry {
    fn default() -> Self {
        let mut registry = ExecutorRegistry {
            kinds: BTreeMap::new(),
        };
        registry.register(
            "process",
            Arc::new(|config| {
                Ok(Arc::new(process::ProcessExecutor::from_config(config)?) as Arc<dyn Executor>)
            }),
        );
        // It holds nothing, so every agent shares one.
        let instant: Arc<dyn Executor> = Arc::new(instant::InstantExecutor);
        registry.register("instant", Arc::new(move |_| Ok(instant.clone())));
        registry
    }
}

impl ExecutorRegistry {
    /// Adds (or replaces) an executor kind.
    pub fn register(&mut self, kind: &str, factory: ExecutorFactory) {
        self.kinds.insert(kind.to_owned(), factory);
    }

    /// The executor an agent's setting describes.
    pub fn build(&self, config: &serde_json::Value) -> Result<Arc<dyn Executor>, Error> {
        let kind = config["kind"].as_str().ok_or_else(|| {
            Error::AgentConfig("executor needs a `kind` (process or instant)".to_owned())
        })?;
        let factory = self.kinds.get(kind).ok_or_else(|| {
            let known: Vec<&str> = self.kinds.keys().map(String::as_str).collect();
            Error::AgentConfig(format!(
                "unknown executor kind {kind:?}; known kinds: {}",
                known.join(", ")
            ))
        })?;
        factory(config)
    }
}
