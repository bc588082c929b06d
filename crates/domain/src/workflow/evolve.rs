//! `evolve`: applies one recorded workflow event to the state. Statuses move
//! only through the tables in `transitions`; an event those tables reject
//! leaves the state as it was (history is never refused), but still counts
//! towards the version.

use super::events::{self as ev, WorkflowEvent};
use super::state::{TaskState, WorkflowState};
use super::transitions::{TaskStatus, WorkflowStatus};

/// Applies `event` to `state`.
pub fn evolve(mut state: WorkflowState, event: &WorkflowEvent) -> WorkflowState {
    state.version += 1;
    let Some((workflow_status, task_status)) = transition(&state, event) else {
        return state;
    };
    match task_status {
        Some(task_status) => apply_task_event(&mut state, event, task_status),
        None => apply_workflow_event(&mut state, event),
    }
    state.status = workflow_status;
    state
}

/// Whether `event` is a legal next event for `state`, per the transition
/// tables. The property tests check every event `decide` emits with it.
pub fn is_legal(state: &WorkflowState, event: &WorkflowEvent) -> bool {
    transition(state, event).is_some()
}

/// The workflow status and, for a task event, the task status that `event`
/// leads to; `None` when either table rejects it.
fn transition(
    state: &WorkflowState,
    event: &WorkflowEvent,
) -> Option<(WorkflowStatus, Option<TaskStatus>)> {
    let other_escalated = match event {
        WorkflowEvent::InputReceived(e) => state
            .tasks
            .iter()
            .any(|(id, t)| *id != e.task_id && t.status == TaskStatus::Escalated),
        _ => false,
    };
    let workflow_status = state.status.after(event, other_escalated)?;
    let task_status = match event.task_id() {
        Some(id) => Some(TaskStatus::after(
            state.tasks.get(id).map(|t| t.status),
            event,
        )?),
        None => None,
    };
    Some((workflow_status, task_status))
}

fn apply_workflow_event(state: &mut WorkflowState, event: &WorkflowEvent) {
    use WorkflowEvent as E;
    match event {
        E::Submitted(e) => {
            state.id = Some(e.workflow_id);
            state.name = e.spec.name.clone();
            state.input = e.spec.input.clone();
            state.submitted_at = Some(e.submitted_at);
            state.forked_from = e.forked_from;
            state.tasks = e
                .spec
                .tasks
                .iter()
                .map(|t| (t.id.clone(), Box::new(TaskState::new(t.clone(), None))))
                .collect();
        }
        E::Started(e) => state.started_at = Some(e.started_at),
        E::Completed(e) => state.finished_at = Some(e.completed_at),
        E::Failed(e) => state.finished_at = Some(e.failed_at),
        E::Cancelled(e) => state.finished_at = Some(e.cancelled_at),
        _ => {}
    }
}

fn apply_task_event(state: &mut WorkflowState, event: &WorkflowEvent, status: TaskStatus) {
    use WorkflowEvent as E;
    if let E::TaskAdded(e) = event {
        let task = Box::new(TaskState::new(e.task.clone(), Some(e.added_by.clone())));
        state.tasks.insert(e.task.id.clone(), task);
        return;
    }
    let Some(task) = event.task_id().and_then(|id| state.tasks.get_mut(id)) else {
        return;
    };
    task.status = status;
    match event {
        E::TaskReady(_) => {
            // A human retry after an escalation grants a fresh budget.
            task.failures = 0;
            task.retry_not_before = None;
        }
        E::TaskAssigned(e) => {
            task.attempt = e.attempt;
            task.assignee = Some(e.agent_id);
            task.last_agent = Some(e.agent_id);
            task.deadline = Some(e.deadline);
            task.retry_not_before = None;
            task.first_assigned_at.get_or_insert(e.assigned_at);
        }
        E::TaskCompleted(e) => {
            task.output = Some(e.output.clone());
            task.usage = task.usage.plus(e.usage);
            task.finished_at = Some(e.completed_at);
            end_attempt(task);
        }
        E::TaskCarriedOver(e) => {
            task.output = Some(e.output.clone());
            task.usage = task.usage.plus(e.usage);
        }
        E::TaskFailed(ev::TaskFailed { error, .. }) => {
            task.failures += 1;
            task.last_error = Some(error.clone());
            task.avoid_agent = task.assignee;
            end_attempt(task);
        }
        E::TaskTimedOut(e) => {
            task.failures += 1;
            task.last_error = Some(format!("attempt {} timed out at {}", e.attempt, e.deadline));
            task.avoid_agent = task.assignee;
            end_attempt(task);
        }
        E::TaskRetryScheduled(e) => {
            task.retry_not_before = Some(e.not_before);
            task.avoid_agent = e.avoid_agent;
        }
        E::TaskReassigned(e) => {
            task.avoid_agent = Some(e.from_agent);
            end_attempt(task);
        }
        E::TaskEscalated(e) => {
            task.last_error.get_or_insert_with(|| e.reason.clone());
            end_attempt(task);
        }
        E::TaskCancelled(_) | E::TaskSkipped(_) => end_attempt(task),
        _ => {}
    }
}

/// The current attempt is over: no agent holds it, no deadline applies.
fn end_attempt(task: &mut TaskState) {
    task.assignee = None;
    task.deadline = None;
}
