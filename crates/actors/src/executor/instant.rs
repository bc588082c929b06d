//! The `instant` executor: completes every task at once with an empty
//! output. It exists for benchmarks and orchestration tests only; it does
//! no work.

use super::{Executor, Job, Outcome, Progress};
use futures_util::future::BoxFuture;

/// Completes immediately. Not for real workflows.
#[derive(Debug, Clone, Copy, Default)]
pub struct InstantExecutor;

impl Executor for InstantExecutor {
    fn run(&self, _job: Job, _progress: Progress) -> BoxFuture<'static, Outcome> {
        Box::pin(std::future::ready(Outcome::Completed {
            output: serde_json::json!({}),
            usage: Default::default(),
            added_tasks: Vec::new(),
        }))
    }
}
