//! Workflow scenarios, written given/when/then.

use super::*;
use crate::decider::testing::given;
use crate::ids::{AgentId, Attempt, TaskId, WorkflowId};
use crate::scoring::CandidateScore;
use crate::{Decider, Error};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use uuid::Uuid;

pub(super) fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_763_719_200, 0).unwrap()
}

fn at(secs: i64) -> DateTime<Utc> {
    t0() + TimeDelta::seconds(secs)
}

pub(super) fn agent(n: u128) -> AgentId {
    AgentId(Uuid::from_u128(n))
}

pub(super) fn task(id: &str, needs: &[&str]) -> TaskSpec {
    TaskSpec {
        id: id.into(),
        capability: "backend".into(),
        instruction: format!("do {id}"),
        needs: needs.iter().map(|n| TaskId::from(*n)).collect(),
        timeout_secs: 60,
        retries: RetryPolicy {
            max_retries: 1,
            backoff_initial_ms: 1_000,
            backoff_multiplier_percent: 200,
            backoff_max_ms: 10_000,
        },
        on_exhausted: OnExhausted::Escalate,
    }
}

pub(super) fn candidates(agent_id: AgentId) -> Vec<CandidateScore> {
    vec![CandidateScore {
        agent_id,
        eligible: true,
        score: 700,
        reasons: vec![],
    }]
}

fn submitted(tasks: Vec<TaskSpec>) -> Vec<WorkflowEvent> {
    let spec = WorkflowSpec {
        name: "demo".into(),
        input: json!({}),
        tasks,
    };
    given::<Workflow>(vec![])
        .when(WorkflowCommand::Submit {
            workflow_id: WorkflowId(Uuid::from_u128(1)),
            spec,
            now: t0(),
        })
        .events()
}

fn assigned(id: &str, attempt: u32, agent_id: AgentId, now: DateTime<Utc>) -> WorkflowEvent {
    TaskAssigned {
        task_id: id.into(),
        attempt: Attempt(attempt),
        agent_id,
        deadline: now + TimeDelta::seconds(60),
        assigned_at: now,
        candidates: candidates(agent_id),
    }
    .into()
}

fn complete(id: &str, attempt: u32, now: DateTime<Utc>) -> WorkflowCommand {
    WorkflowCommand::CompleteTask {
        task_id: id.into(),
        attempt: Attempt(attempt),
        output: json!({ "done": id }),
        usage: Usage::default(),
        added_tasks: vec![],
        now,
    }
}

fn completed(id: &str, attempt: u32, now: DateTime<Utc>) -> WorkflowEvent {
    TaskCompleted {
        task_id: id.into(),
        attempt: Attempt(attempt),
        output: json!({ "done": id }),
        usage: Usage::default(),
        completed_at: now,
        overridden: false,
    }
    .into()
}

fn ready(id: &str) -> WorkflowEvent {
    TaskReady { task_id: id.into() }.into()
}

#[test]
fn submitting_starts_the_workflow_and_readies_root_tasks() {
    let events = submitted(vec![task("a", &[]), task("b", &["a"]), task("c", &[])]);
    assert_eq!(events.len(), 4);
    assert!(matches!(events[0], WorkflowEvent::Submitted(_)));
    assert!(matches!(events[1], WorkflowEvent::Started(_)));
    assert_eq!(events[2..], [ready("a"), ready("c")]);
    let state = Workflow::fold(&events);
    assert_eq!(state.status, WorkflowStatus::Running);
    assert_eq!(state.tasks[&TaskId::from("b")].status, TaskStatus::Pending);
}

#[test]
fn a_bad_spec_is_refused_with_the_reason() {
    let spec = WorkflowSpec {
        name: "demo".into(),
        input: json!({}),
        tasks: vec![task("a", &["b"]), task("b", &["a"])],
    };
    given::<Workflow>(vec![])
        .when(WorkflowCommand::Submit {
            workflow_id: WorkflowId(Uuid::from_u128(1)),
            spec,
            now: t0(),
        })
        .then_error(Error::InvalidSpec(SpecError::Cycle(vec![
            "a".into(),
            "b".into(),
            "a".into(),
        ])));
}

#[test]
fn completing_a_task_readies_its_dependents_and_the_last_one_completes_the_workflow() {
    let mut history = submitted(vec![task("a", &[]), task("b", &["a"])]);
    history.push(assigned("a", 1, agent(1), at(1)));
    given::<Workflow>(history.clone())
        .when(complete("a", 1, at(5)))
        .then(vec![completed("a", 1, at(5)), ready("b")]);

    history.extend([
        completed("a", 1, at(5)),
        ready("b"),
        assigned("b", 1, agent(2), at(6)),
    ]);
    let events = given::<Workflow>(history)
        .when(complete("b", 1, at(10)))
        .events();
    assert_eq!(events[0], completed("b", 1, at(10)));
    let WorkflowEvent::Completed(done) = &events[1] else {
        panic!("expected workflow completion, got {:?}", events[1]);
    };
    assert_eq!(done.summary.duration_ms, 10_000);
    assert_eq!(done.summary.tasks_completed, 2);
    assert_eq!(done.summary.attempts[&TaskId::from("b")], 1);
}

#[test]
fn a_finished_attempt_frees_the_task_and_keeps_who_had_it() {
    let mut history = submitted(vec![task("a", &[])]);
    history.push(assigned("a", 1, agent(1), at(1)));
    let running = Workflow::fold(&history);
    let a = &running.tasks[&TaskId::from("a")];
    assert_eq!((a.assignee, a.last_agent), (Some(agent(1)), Some(agent(1))));
    history.push(completed("a", 1, at(5)));
    let done = Workflow::fold(&history);
    let a = &done.tasks[&TaskId::from("a")];
    assert_eq!((a.assignee, a.last_agent), (None, Some(agent(1))));
}

#[test]
fn a_state_saved_before_last_agent_existed_still_loads() {
    let history = submitted(vec![task("a", &[])]);
    let state = Workflow::fold(&history);
    let mut snapshot = serde_json::to_value(&state).unwrap();
    for task in snapshot["tasks"].as_object_mut().unwrap().values_mut() {
        task.as_object_mut().unwrap().remove("last_agent");
    }
    let restored: WorkflowState = serde_json::from_value(snapshot).unwrap();
    assert_eq!(restored, state);
}

#[test]
fn a_task_cannot_be_assigned_before_its_dependencies_complete() {
    let history = submitted(vec![task("a", &[]), task("b", &["a"])]);
    given::<Workflow>(history)
        .when(WorkflowCommand::AssignTask {
            task_id: "b".into(),
            agent_id: agent(1),
            candidates: candidates(agent(1)),
            now: at(1),
        })
        .then_error(Error::IllegalTaskTransition {
            task: "b".into(),
            status: TaskStatus::Pending,
            action: "assign",
        });
}

#[test]
fn a_failure_schedules_a_retry_with_backoff_avoiding_the_agent() {
    let mut history = submitted(vec![task("a", &[])]);
    history.push(assigned("a", 1, agent(1), at(0)));
    let fail = WorkflowCommand::FailTask {
        task_id: "a".into(),
        attempt: Attempt(1),
        error: "exit 1".into(),
        now: at(3),
    };
    let events = given::<Workflow>(history.clone()).when(fail).events();
    assert_eq!(
        events,
        vec![
            TaskFailed {
                task_id: "a".into(),
                attempt: Attempt(1),
                error: "exit 1".into(),
                failed_at: at(3),
            }
            .into(),
            TaskRetryScheduled {
                task_id: "a".into(),
                retry: 1,
                not_before: at(4),
                avoid_agent: Some(agent(1)),
            }
            .into(),
        ]
    );
    history.extend(events);
    assert_eq!(
        Workflow::fold(&history).tasks[&TaskId::from("a")].status,
        TaskStatus::RetryWaiting
    );
    let assign = |now| WorkflowCommand::AssignTask {
        task_id: "a".into(),
        agent_id: agent(2),
        candidates: candidates(agent(2)),
        now,
    };
    // Not before the back-off elapsed.
    given::<Workflow>(history.clone())
        .when(assign(at(3)))
        .then_error(Error::BackoffNotElapsed {
            task: "a".into(),
            not_before: at(4),
        });
    given::<Workflow>(history)
        .when(assign(at(4)))
        .then(vec![assigned("a", 2, agent(2), at(4))]);
}

#[test]
fn a_late_result_from_an_earlier_attempt_is_recorded_and_not_applied() {
    let mut history = submitted(vec![task("a", &[])]);
    history.push(assigned("a", 1, agent(1), at(0)));
    history.push(
        TaskReassigned {
            task_id: "a".into(),
            attempt: Attempt(1),
            from_agent: agent(1),
            reason: "agent unhealthy".into(),
        }
        .into(),
    );
    history.push(assigned("a", 2, agent(2), at(1)));
    let state = given::<Workflow>(history)
        .when(complete("a", 1, at(2)))
        .then(vec![
            TaskResultRejected {
                task_id: "a".into(),
                attempt: Attempt(1),
                current_attempt: Attempt(2),
                result: "completed".into(),
            }
            .into(),
        ]);
    let a = &state.tasks[&TaskId::from("a")];
    assert_eq!(
        (a.status, a.attempt, a.output.clone()),
        (TaskStatus::Assigned, Attempt(2), None)
    );
}

#[test]
fn a_time_out_is_refused_before_the_deadline_and_retried_after() {
    let mut history = submitted(vec![task("a", &[])]);
    history.push(assigned("a", 1, agent(1), at(0)));
    given::<Workflow>(history.clone())
        .when(WorkflowCommand::TimeOutTask {
            task_id: "a".into(),
            attempt: Attempt(1),
            now: at(59),
        })
        .then_error(Error::DeadlineNotReached {
            task: "a".into(),
            attempt: Attempt(1),
            deadline: at(60),
        });
    let events = given::<Workflow>(history)
        .when(WorkflowCommand::TimeOutTask {
            task_id: "a".into(),
            attempt: Attempt(1),
            now: at(60),
        })
        .events();
    assert!(matches!(events[0], WorkflowEvent::TaskTimedOut(_)));
    assert!(matches!(events[1], WorkflowEvent::TaskRetryScheduled(_)));
}

/// History of a workflow whose only task exhausted its retries and
/// escalated.
fn escalated_history() -> Vec<WorkflowEvent> {
    let mut t = task("a", &[]);
    t.retries.max_retries = 0;
    let mut history = submitted(vec![t, task("b", &["a"])]);
    history.push(assigned("a", 1, agent(1), at(0)));
    let events = given::<Workflow>(history.clone())
        .when(WorkflowCommand::FailTask {
            task_id: "a".into(),
            attempt: Attempt(1),
            error: "exit 2".into(),
            now: at(1),
        })
        .events();
    assert!(matches!(events[1], WorkflowEvent::TaskEscalated(_)));
    assert!(matches!(events[2], WorkflowEvent::Escalated(_)));
    history.extend(events);
    assert_eq!(Workflow::fold(&history).status, WorkflowStatus::Escalated);
    history
}

fn resolve(decision: HumanDecision) -> WorkflowCommand {
    WorkflowCommand::ResolveEscalation {
        task_id: "a".into(),
        decision,
        now: at(2),
    }
}

#[test]
fn a_human_retry_readies_the_task_with_a_fresh_budget() {
    let state = given::<Workflow>(escalated_history())
        .when(resolve(HumanDecision::Retry))
        .then(vec![
            WorkflowInputReceived {
                task_id: "a".into(),
                decision: HumanDecision::Retry,
                received_at: at(2),
            }
            .into(),
            ready("a"),
        ]);
    assert_eq!(state.status, WorkflowStatus::Running);
    assert_eq!(state.tasks[&TaskId::from("a")].failures, 0);
}

#[test]
fn a_human_skip_lets_dependents_proceed() {
    let events = given::<Workflow>(escalated_history())
        .when(resolve(HumanDecision::Skip))
        .events();
    assert!(matches!(events[1], WorkflowEvent::TaskSkipped(_)));
    assert_eq!(events[2], ready("b"));
}

#[test]
fn a_human_override_completes_the_task_with_the_given_output() {
    let output = json!({ "patched": true });
    let state = given::<Workflow>(escalated_history())
        .when(resolve(HumanDecision::Override {
            output: output.clone(),
        }))
        .events()
        .iter()
        .fold(Workflow::fold(&escalated_history()), Workflow::evolve);
    let a = &state.tasks[&TaskId::from("a")];
    assert_eq!(
        (a.status, a.output.clone()),
        (TaskStatus::Completed, Some(output))
    );
    assert_eq!(state.tasks[&TaskId::from("b")].status, TaskStatus::Ready);
}

#[test]
fn a_human_cancel_cancels_the_workflow() {
    let history = escalated_history();
    let events = given::<Workflow>(history.clone())
        .when(resolve(HumanDecision::Cancel))
        .events();
    let state = events
        .iter()
        .fold(Workflow::fold(&history), Workflow::evolve);
    assert_eq!(state.status, WorkflowStatus::Cancelled);
    assert!(state.tasks.values().all(|t| t.status.is_terminal()));
}

#[test]
fn exhausted_retries_with_fail_policy_fail_the_workflow() {
    let mut t = task("a", &[]);
    t.retries.max_retries = 0;
    t.on_exhausted = OnExhausted::Fail;
    let mut history = submitted(vec![t, task("b", &[])]);
    history.push(assigned("a", 1, agent(1), at(0)));
    let events = given::<Workflow>(history.clone())
        .when(WorkflowCommand::FailTask {
            task_id: "a".into(),
            attempt: Attempt(1),
            error: "boom".into(),
            now: at(1),
        })
        .events();
    let state = events
        .iter()
        .fold(Workflow::fold(&history), Workflow::evolve);
    assert_eq!(state.status, WorkflowStatus::Failed);
    assert_eq!(
        state.tasks[&TaskId::from("b")].status,
        TaskStatus::Cancelled
    );
    given::<Workflow>(history.into_iter().chain(events).collect())
        .when(WorkflowCommand::Cancel {
            reason: "x".into(),
            now: at(2),
        })
        .then_error(Error::WorkflowNotActive {
            status: WorkflowStatus::Failed,
            action: "cancel",
        });
}

#[test]
fn a_blocked_agent_escalates_its_task() {
    let mut history = submitted(vec![task("a", &[])]);
    history.push(assigned("a", 1, agent(1), at(0)));
    let state = given::<Workflow>(history)
        .when(WorkflowCommand::ReportBlocked {
            task_id: "a".into(),
            attempt: Attempt(1),
            reason: "needs credentials".into(),
        })
        .then(vec![
            TaskEscalated {
                task_id: "a".into(),
                reason: "agent is blocked: needs credentials".into(),
            }
            .into(),
            WorkflowEscalated {
                task_id: "a".into(),
                reason: "agent is blocked: needs credentials".into(),
            }
            .into(),
        ]);
    assert_eq!(state.status, WorkflowStatus::Escalated);
}

#[test]
fn a_planning_task_adds_validated_tasks() {
    let mut plan = task("plan", &[]);
    plan.capability = PLANNING_CAPABILITY.into();
    let mut history = submitted(vec![plan]);
    history.push(assigned("plan", 1, agent(1), at(0)));
    let add = |added_tasks| WorkflowCommand::CompleteTask {
        task_id: "plan".into(),
        attempt: Attempt(1),
        output: json!({}),
        usage: Usage::default(),
        added_tasks,
        now: at(1),
    };
    let events = given::<Workflow>(history.clone())
        .when(add(vec![
            task("build", &["plan"]),
            task("test", &["build"]),
        ]))
        .events();
    let types: Vec<&str> = events.iter().map(crate::DomainEvent::event_type).collect();
    assert_eq!(
        types,
        [
            "workflows.task.added",
            "workflows.task.added",
            "workflows.task.completed",
            "workflows.task.ready"
        ]
    );
    assert_eq!(events[3], ready("build"));
    given::<Workflow>(history)
        .when(add(vec![task("x", &["y"]), task("y", &["x"])]))
        .then_error(Error::InvalidSpec(SpecError::Cycle(vec![
            "x".into(),
            "y".into(),
            "x".into(),
        ])));
}

#[test]
fn only_planning_tasks_may_add_tasks() {
    let mut history = submitted(vec![task("a", &[])]);
    history.push(assigned("a", 1, agent(1), at(0)));
    given::<Workflow>(history)
        .when(WorkflowCommand::CompleteTask {
            task_id: "a".into(),
            attempt: Attempt(1),
            output: json!({}),
            usage: Usage::default(),
            added_tasks: vec![task("b", &[])],
            now: at(1),
        })
        .then_error(Error::NotAPlanner("a".into()));
}

#[test]
fn commands_to_an_unsubmitted_workflow_are_refused() {
    given::<Workflow>(vec![])
        .when(WorkflowCommand::Cancel {
            reason: "x".into(),
            now: t0(),
        })
        .then_error(Error::WorkflowNotSubmitted);
    given::<Workflow>(vec![])
        .when(complete("a", 1, t0()))
        .then_error(Error::WorkflowNotSubmitted);
}

#[test]
fn states_survive_a_snapshot_round_trip() {
    let mut history = submitted(vec![task("a", &[]), task("b", &["a"])]);
    history.push(assigned("a", 1, agent(1), at(0)));
    let state = Workflow::fold(&history);
    let snapshot = serde_json::to_value(&state).unwrap();
    let restored: WorkflowState = serde_json::from_value(snapshot).unwrap();
    assert_eq!(restored, state);
}

#[test]
fn a_fork_carries_over_completed_tasks_and_runs_the_rest() {
    let mut history = submitted(vec![task("a", &[]), task("b", &["a"]), task("c", &[])]);
    history.push(assigned("a", 1, agent(1), at(1)));
    history.push(completed("a", 1, at(2)));
    history.push(ready("b"));
    let origin_state = Workflow::fold(&history);
    let origin = ForkOrigin {
        workflow_id: WorkflowId(Uuid::from_u128(1)),
        version: origin_state.version,
    };
    let fork_id = WorkflowId(Uuid::from_u128(2));
    let events = given::<Workflow>(vec![])
        .when(WorkflowCommand::Fork {
            workflow_id: fork_id,
            origin,
            at_origin: Box::new(origin_state),
            now: at(10),
        })
        .events();
    let WorkflowEvent::Submitted(first) = &events[0] else {
        panic!("a fork starts with its submission, got {:?}", events[0]);
    };
    assert_eq!(
        first.forked_from,
        Some(origin),
        "the fork's first event names its origin"
    );
    let state = Workflow::fold(&events);
    let status = |id: &str| state.tasks[&TaskId::from(id)].status;
    assert_eq!(status("a"), TaskStatus::Completed);
    assert_eq!(
        state.tasks[&TaskId::from("a")].output,
        Some(json!({ "done": "a" }))
    );
    assert_eq!(
        (status("b"), status("c")),
        (TaskStatus::Ready, TaskStatus::Ready)
    );
    assert_eq!(state.status, WorkflowStatus::Running);
    // `a` is never assigned again in the fork.
    given::<Workflow>(events)
        .when(WorkflowCommand::AssignTask {
            task_id: "a".into(),
            agent_id: agent(1),
            candidates: candidates(agent(1)),
            now: at(11),
        })
        .then_error(Error::IllegalTaskTransition {
            task: "a".into(),
            status: TaskStatus::Completed,
            action: "assign",
        });
}
