//! The Workflow aggregate: a DAG of tasks run through PLAN → DELEGATE →
//! MONITOR → ESCALATE → REASSIGN → COMPLETE, as pure decide/evolve functions.

mod commands;
mod decide;
mod events;
mod evolve;
mod spec;
mod state;
mod transitions;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use commands::WorkflowCommand;
pub use decide::decide;
pub use events::*;
pub use evolve::{evolve, is_legal};
pub use spec::{
    BACKOFF_MULTIPLIER_PERCENT, MAX_BACKOFF_MS, MAX_RETRIES, MAX_TASK_ID_LEN, MAX_TASKS,
    MAX_TIMEOUT_SECS, OnExhausted, PLANNING_CAPABILITY, RetryPolicy, SpecError, TaskSpec,
    WorkflowSpec, validate_additions, validate_spec,
};
pub use state::{TaskState, WorkflowState};
pub use transitions::{TaskStatus, WorkflowStatus};

/// The workflow decider, for generic code (the given/when/then harness, the
/// actors' command handling).
#[derive(Debug, Clone, Copy)]
pub struct Workflow;

impl crate::Decider for Workflow {
    type State = WorkflowState;
    type Command = WorkflowCommand;
    type Event = WorkflowEvent;
    type Error = crate::Error;

    fn decide(
        state: &WorkflowState,
        command: WorkflowCommand,
    ) -> Result<Vec<WorkflowEvent>, crate::Error> {
        decide(state, command)
    }

    fn evolve(state: WorkflowState, event: &WorkflowEvent) -> WorkflowState {
        evolve(state, event)
    }
}
