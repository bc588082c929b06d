//! `decide`: turns a workflow command into events, or refuses it.
//!
//! A decision is built on a scratch copy of the state: each event is evolved
//! into it as it is emitted, so follow-ups (tasks becoming ready, the
//! workflow completing) are computed from the state the earlier events
//! leave, exactly as a replay will see it.

use super::commands::WorkflowCommand;
use super::events::{self as ev, HumanDecision, WorkflowEvent};
use super::evolve::evolve;
use super::spec::{OnExhausted, PLANNING_CAPABILITY, TaskSpec, validate_additions, validate_spec};
use super::state::{TaskState, WorkflowState};
use super::transitions::{TaskStatus, WorkflowStatus};
use crate::Error;
use crate::ids::{AgentId, Attempt, TaskId};
use crate::scoring::CandidateScore;
use chrono::{DateTime, TimeDelta, Utc};

/// Decides `command` against `state`.
pub fn decide(
    state: &WorkflowState,
    command: WorkflowCommand,
) -> Result<Vec<WorkflowEvent>, Error> {
    use WorkflowCommand as C;
    match command {
        C::Submit {
            workflow_id,
            spec,
            now,
        } => {
            if state.status != WorkflowStatus::NotSubmitted {
                return Err(Error::WorkflowAlreadySubmitted);
            }
            validate_spec(&spec)?;
            let mut d = Decision::new(state);
            d.push(ev::WorkflowSubmitted {
                workflow_id,
                spec,
                submitted_at: now,
                forked_from: None,
            });
            d.push(ev::WorkflowStarted { started_at: now });
            d.ready_unblocked_tasks();
            Ok(d.events)
        }
        C::AssignTask {
            task_id,
            agent_id,
            candidates,
            now,
        } => assign(state, task_id, agent_id, candidates, now),
        C::StartTask {
            task_id,
            attempt,
            now,
        } => {
            let task = live_attempt(state, &task_id, attempt, "start")?;
            if task.status != TaskStatus::Assigned {
                return Err(illegal(&task_id, task.status, "start"));
            }
            Ok(vec![
                ev::TaskStarted {
                    task_id,
                    attempt,
                    started_at: now,
                }
                .into(),
            ])
        }
        C::ReportProgress {
            task_id,
            attempt,
            message,
        } => {
            live_attempt(state, &task_id, attempt, "report progress")?;
            Ok(vec![
                ev::TaskProgressed {
                    task_id,
                    attempt,
                    message,
                }
                .into(),
            ])
        }
        C::CompleteTask {
            task_id,
            attempt,
            output,
            usage,
            added_tasks,
            now,
        } => {
            if let Some(rejected) = fence_result(state, &task_id, attempt, "completed")? {
                return Ok(vec![rejected]);
            }
            complete(state, task_id, attempt, output, usage, added_tasks, now)
        }
        C::FailTask {
            task_id,
            attempt,
            error,
            now,
        } => {
            if let Some(rejected) = fence_result(state, &task_id, attempt, "failed")? {
                return Ok(vec![rejected]);
            }
            let failed = ev::TaskFailed {
                task_id: task_id.clone(),
                attempt,
                error: error.clone(),
                failed_at: now,
            };
            Ok(fail_attempt(state, &task_id, failed.into(), &error, now))
        }
        C::TimeOutTask {
            task_id,
            attempt,
            now,
        } => {
            let task = live_attempt(state, &task_id, attempt, "time out")?;
            let deadline = task.deadline.unwrap_or(now);
            if now < deadline {
                return Err(Error::DeadlineNotReached {
                    task: task_id,
                    attempt,
                    deadline,
                });
            }
            let timed_out = ev::TaskTimedOut {
                task_id: task_id.clone(),
                attempt,
                deadline,
            };
            let error = format!("attempt {attempt} timed out");
            Ok(fail_attempt(state, &task_id, timed_out.into(), &error, now))
        }
        C::ReportBlocked {
            task_id,
            attempt,
            reason,
        } => {
            if let Some(rejected) = fence_result(state, &task_id, attempt, "blocked")? {
                return Ok(vec![rejected]);
            }
            let mut d = Decision::new(state);
            d.escalate(&task_id, format!("agent is blocked: {reason}"));
            Ok(d.events)
        }
        C::ReassignTask {
            task_id,
            attempt,
            reason,
        } => {
            let task = live_attempt(state, &task_id, attempt, "reassign")?;
            let from_agent = task
                .assignee
                .ok_or_else(|| illegal(&task_id, task.status, "reassign"))?;
            Ok(vec![
                ev::TaskReassigned {
                    task_id,
                    attempt,
                    from_agent,
                    reason,
                }
                .into(),
            ])
        }
        C::ResolveEscalation {
            task_id,
            decision,
            now,
        } => resolve(state, task_id, decision, now),
        C::Fork {
            workflow_id,
            origin,
            at_origin,
            now,
        } => fork(state, workflow_id, origin, &at_origin, now),
        C::Cancel { reason, now } => {
            if !matches!(
                state.status,
                WorkflowStatus::Submitted | WorkflowStatus::Running | WorkflowStatus::Escalated
            ) {
                return Err(not_active(state, "cancel"));
            }
            let mut d = Decision::new(state);
            d.cancel(reason, now);
            Ok(d.events)
        }
    }
}

fn fork(
    state: &WorkflowState,
    workflow_id: crate::ids::WorkflowId,
    origin: ev::ForkOrigin,
    at_origin: &WorkflowState,
    now: DateTime<Utc>,
) -> Result<Vec<WorkflowEvent>, Error> {
    if state.status != WorkflowStatus::NotSubmitted {
        return Err(Error::WorkflowAlreadySubmitted);
    }
    if at_origin.status == WorkflowStatus::NotSubmitted {
        return Err(Error::WorkflowNotSubmitted);
    }
    let spec = at_origin.spec();
    validate_spec(&spec)?;
    let mut d = Decision::new(state);
    d.push(ev::WorkflowSubmitted {
        workflow_id,
        spec,
        submitted_at: now,
        forked_from: Some(origin),
    });
    d.push(ev::WorkflowStarted { started_at: now });
    for (task_id, task) in &at_origin.tasks {
        if task.status == TaskStatus::Completed {
            d.push(ev::TaskCarriedOver {
                task_id: task_id.clone(),
                output: task.output.clone().unwrap_or(serde_json::Value::Null),
                usage: task.usage,
            });
        }
    }
    d.after_task_done(now);
    Ok(d.events)
}

fn assign(
    state: &WorkflowState,
    task_id: TaskId,
    agent_id: AgentId,
    candidates: Vec<CandidateScore>,
    now: DateTime<Utc>,
) -> Result<Vec<WorkflowEvent>, Error> {
    require_active(state, "assign")?;
    let task = state.task(&task_id)?;
    match task.status {
        TaskStatus::Ready => {}
        TaskStatus::RetryWaiting => {
            if let Some(not_before) = task.retry_not_before.filter(|nb| *nb > now) {
                return Err(Error::BackoffNotElapsed {
                    task: task_id,
                    not_before,
                });
            }
        }
        status => return Err(illegal(&task_id, status, "assign")),
    }
    if !candidates
        .iter()
        .any(|c| c.agent_id == agent_id && c.eligible)
    {
        return Err(Error::AgentNotEligible {
            agent: agent_id,
            task: task_id,
        });
    }
    let timeout = TimeDelta::seconds(i64::try_from(task.spec.timeout_secs).unwrap_or(i64::MAX));
    Ok(vec![
        ev::TaskAssigned {
            attempt: task.attempt.next(),
            task_id,
            agent_id,
            deadline: now + timeout,
            assigned_at: now,
            candidates,
        }
        .into(),
    ])
}

fn complete(
    state: &WorkflowState,
    task_id: TaskId,
    attempt: Attempt,
    output: serde_json::Value,
    usage: ev::Usage,
    added_tasks: Vec<TaskSpec>,
    now: DateTime<Utc>,
) -> Result<Vec<WorkflowEvent>, Error> {
    let task = state.task(&task_id)?;
    if !added_tasks.is_empty() {
        if task.spec.capability.0 != PLANNING_CAPABILITY {
            return Err(Error::NotAPlanner(task_id));
        }
        let existing: Vec<&TaskSpec> = state.tasks.values().map(|t| &t.spec).collect();
        validate_additions(&existing, &added_tasks)?;
    }
    let mut d = Decision::new(state);
    for task in added_tasks {
        d.push(ev::TaskAdded {
            task,
            added_by: task_id.clone(),
        });
    }
    d.push(ev::TaskCompleted {
        task_id,
        attempt,
        output,
        usage,
        completed_at: now,
        overridden: false,
    });
    d.after_task_done(now);
    Ok(d.events)
}

fn fail_attempt(
    state: &WorkflowState,
    task_id: &TaskId,
    failure: WorkflowEvent,
    error: &str,
    now: DateTime<Utc>,
) -> Vec<WorkflowEvent> {
    let mut d = Decision::new(state);
    d.push(failure);
    let task = &d.state.tasks[task_id];
    let retries = task.spec.retries;
    if task.failures <= retries.max_retries {
        let backoff = TimeDelta::milliseconds(
            i64::try_from(retries.backoff_ms(task.failures)).unwrap_or(i64::MAX),
        );
        let scheduled = ev::TaskRetryScheduled {
            task_id: task_id.clone(),
            retry: task.failures,
            not_before: now + backoff,
            avoid_agent: task.avoid_agent,
        };
        d.push(scheduled);
        return d.events;
    }
    let reason = format!(
        "retries exhausted after {} attempts: {error}",
        task.failures
    );
    match task.spec.on_exhausted {
        OnExhausted::Escalate => d.escalate(task_id, reason),
        OnExhausted::Fail => {
            d.cancel_open_tasks(&format!("task {task_id} failed"));
            d.push(ev::WorkflowFailed {
                task_id: Some(task_id.clone()),
                reason,
                failed_at: now,
            });
        }
    }
    d.events
}

fn resolve(
    state: &WorkflowState,
    task_id: TaskId,
    decision: HumanDecision,
    now: DateTime<Utc>,
) -> Result<Vec<WorkflowEvent>, Error> {
    require_active(state, "resolve an escalation")?;
    let task = state.task(&task_id)?;
    if task.status != TaskStatus::Escalated {
        return Err(illegal(&task_id, task.status, "resolve an escalation"));
    }
    let attempt = task.attempt;
    let mut d = Decision::new(state);
    d.push(ev::WorkflowInputReceived {
        task_id: task_id.clone(),
        decision: decision.clone(),
        received_at: now,
    });
    match decision {
        HumanDecision::Retry => d.push(ev::TaskReady { task_id }),
        HumanDecision::Skip => {
            d.push(ev::TaskSkipped {
                task_id,
                reason: "skipped by a human decision".to_owned(),
            });
            d.after_task_done(now);
        }
        HumanDecision::Override { output } => {
            d.push(ev::TaskCompleted {
                task_id,
                attempt,
                output,
                usage: ev::Usage::default(),
                completed_at: now,
                overridden: true,
            });
            d.after_task_done(now);
        }
        HumanDecision::Cancel => d.cancel("cancelled by a human decision".to_owned(), now),
    }
    Ok(d.events)
}

/// Decides whether a result for `attempt` applies. `Ok(None)`: it is the
/// live attempt, apply it. `Ok(Some(event))`: it is a late result from an
/// earlier (or already finished) attempt, to be recorded and not applied.
fn fence_result(
    state: &WorkflowState,
    task_id: &TaskId,
    attempt: Attempt,
    result: &str,
) -> Result<Option<WorkflowEvent>, Error> {
    require_active(state, "report a result")?;
    let task = state.task(task_id)?;
    if attempt > task.attempt || attempt == Attempt(0) {
        return Err(Error::NotCurrentAttempt {
            task: task_id.clone(),
            attempt,
            current: task.attempt,
        });
    }
    if attempt == task.attempt && task.status.has_live_attempt() {
        return Ok(None);
    }
    Ok(Some(
        ev::TaskResultRejected {
            task_id: task_id.clone(),
            attempt,
            current_attempt: task.attempt,
            result: result.to_owned(),
        }
        .into(),
    ))
}

/// The task, if `attempt` is its live attempt.
fn live_attempt<'s>(
    state: &'s WorkflowState,
    task_id: &TaskId,
    attempt: Attempt,
    action: &'static str,
) -> Result<&'s TaskState, Error> {
    require_active(state, action)?;
    let task = state.task(task_id)?;
    if !task.status.has_live_attempt() {
        return Err(illegal(task_id, task.status, action));
    }
    if attempt != task.attempt {
        return Err(Error::NotCurrentAttempt {
            task: task_id.clone(),
            attempt,
            current: task.attempt,
        });
    }
    Ok(task)
}

fn require_active(state: &WorkflowState, action: &'static str) -> Result<(), Error> {
    if state.status == WorkflowStatus::NotSubmitted {
        return Err(Error::WorkflowNotSubmitted);
    }
    if !state.status.is_active() {
        return Err(not_active(state, action));
    }
    Ok(())
}

fn not_active(state: &WorkflowState, action: &'static str) -> Error {
    if state.status == WorkflowStatus::NotSubmitted {
        return Error::WorkflowNotSubmitted;
    }
    Error::WorkflowNotActive {
        status: state.status,
        action,
    }
}

fn illegal(task: &TaskId, status: TaskStatus, action: &'static str) -> Error {
    Error::IllegalTaskTransition {
        task: task.clone(),
        status,
        action,
    }
}

/// Events being decided, and the state they lead to.
struct Decision {
    state: WorkflowState,
    events: Vec<WorkflowEvent>,
}

impl Decision {
    fn new(state: &WorkflowState) -> Self {
        Decision {
            state: state.clone(),
            events: Vec::new(),
        }
    }

    fn push(&mut self, event: impl Into<WorkflowEvent>) {
        let event = event.into();
        self.state = evolve(std::mem::take(&mut self.state), &event);
        self.events.push(event);
    }

    /// Marks ready every pending task whose dependencies are all done.
    fn ready_unblocked_tasks(&mut self) {
        let ready: Vec<TaskId> = self
            .state
            .tasks
            .iter()
            .filter(|(id, t)| t.status == TaskStatus::Pending && self.state.dependencies_done(id))
            .map(|(id, _)| id.clone())
            .collect();
        for task_id in ready {
            self.push(ev::TaskReady { task_id });
        }
    }

    /// After a task completed or was skipped: unblock dependents, and
    /// complete the workflow when every task is done.
    fn after_task_done(&mut self, now: DateTime<Utc>) {
        self.ready_unblocked_tasks();
        let all_done = self
            .state
            .tasks
            .values()
            .all(|t| t.status.satisfies_dependents());
        if all_done && self.state.status == WorkflowStatus::Running {
            let summary = summarize(&self.state, now);
            self.push(ev::WorkflowCompleted {
                completed_at: now,
                summary,
            });
        }
    }

    fn escalate(&mut self, task_id: &TaskId, reason: String) {
        self.push(ev::TaskEscalated {
            task_id: task_id.clone(),
            reason: reason.clone(),
        });
        self.push(ev::WorkflowEscalated {
            task_id: task_id.clone(),
            reason,
        });
    }

    fn cancel_open_tasks(&mut self, reason: &str) {
        let open: Vec<TaskId> = self
            .state
            .tasks
            .iter()
            .filter(|(_, t)| !t.status.is_terminal())
            .map(|(id, _)| id.clone())
            .collect();
        for task_id in open {
            self.push(ev::TaskCancelled {
                task_id,
                reason: reason.to_owned(),
            });
        }
    }

    fn cancel(&mut self, reason: String, now: DateTime<Utc>) {
        self.cancel_open_tasks("workflow cancelled");
        self.push(ev::WorkflowCancelled {
            reason,
            cancelled_at: now,
        });
    }
}

fn summarize(state: &WorkflowState, now: DateTime<Utc>) -> ev::WorkflowSummary {
    let started = state.started_at.unwrap_or(now);
    let duration_ms = u64::try_from((now - started).num_milliseconds()).unwrap_or(0);
    let mut summary = ev::WorkflowSummary {
        duration_ms,
        ..Default::default()
    };
    for (id, task) in &state.tasks {
        match task.status {
            TaskStatus::Completed => summary.tasks_completed += 1,
            TaskStatus::Skipped => summary.tasks_skipped += 1,
            _ => {}
        }
        summary.attempts.insert(id.clone(), task.attempt.0);
        summary.usage = summary.usage.plus(task.usage);
    }
    summary
}
