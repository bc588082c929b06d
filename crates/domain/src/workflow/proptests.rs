//! Property tests of the workflow decider: random DAGs driven by random
//! command sequences (valid, stale, out of order) must keep the invariants.

use super::tests::{agent, candidates, t0, task};
use super::*;
use crate::ids::{Attempt, TaskId, WorkflowId};
use crate::{Decider, DomainEvent};
use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;
use uuid::Uuid;

/// A command shape; task and attempt are picked relative to the state when
/// it is played, so sequences hit live, stale and impossible attempts.
#[derive(Debug, Clone)]
enum Step {
    Assign { task: usize, agent: u8 },
    Start { task: usize, stale: u32 },
    Progress { task: usize, stale: u32 },
    Complete { task: usize, stale: u32 },
    Fail { task: usize, stale: u32 },
    TimeOut { task: usize, stale: u32 },
    Block { task: usize, stale: u32 },
    Reassign { task: usize, stale: u32 },
    Resolve { task: usize, decision: u8 },
    Cancel,
    Wait { secs: u16 },
}

fn arb_step() -> impl Strategy<Value = Step> {
    // Few distinct tasks, many re-assignments and stale attempts: the
    // interesting histories are those where a task has had several attempts.
    let t = prop_oneof![3 => 0usize..2, 1 => 0usize..8];
    let stale = prop_oneof![3 => Just(0u32), 2 => 1u32..3];
    prop_oneof![
        4 => (t.clone(), 0u8..3).prop_map(|(task, agent)| Step::Assign { task, agent }),
        3 => (t.clone(), stale.clone()).prop_map(|(task, stale)| Step::Start { task, stale }),
        1 => (t.clone(), stale.clone()).prop_map(|(task, stale)| Step::Progress { task, stale }),
        5 => (t.clone(), stale.clone()).prop_map(|(task, stale)| Step::Complete { task, stale }),
        2 => (t.clone(), stale.clone()).prop_map(|(task, stale)| Step::Fail { task, stale }),
        1 => (t.clone(), stale.clone()).prop_map(|(task, stale)| Step::TimeOut { task, stale }),
        1 => (t.clone(), stale.clone()).prop_map(|(task, stale)| Step::Block { task, stale }),
        3 => (t.clone(), stale).prop_map(|(task, stale)| Step::Reassign { task, stale }),
        2 => (t, 0u8..4).prop_map(|(task, decision)| Step::Resolve { task, decision }),
        1 => Just(Step::Cancel),
        2 => (1u16..120).prop_map(|secs| Step::Wait { secs }),
    ]
}

/// A random DAG: each task may need any earlier task, so it is acyclic.
fn arb_spec() -> impl Strategy<Value = WorkflowSpec> {
    (1usize..8)
        .prop_flat_map(|n| {
            let tasks: Vec<_> = (0..n)
                .map(|i| {
                    (
                        prop::collection::vec(any::<bool>(), i),
                        0u32..3,
                        any::<bool>(),
                    )
                })
                .collect();
            tasks
        })
        .prop_map(|tasks| WorkflowSpec {
            name: "random".into(),
            input: serde_json::Value::Null,
            tasks: tasks
                .into_iter()
                .enumerate()
                .map(|(i, (needs, retries, escalate))| {
                    let needs: Vec<String> = needs
                        .iter()
                        .enumerate()
                        .filter(|(_, n)| **n)
                        .map(|(j, _)| format!("t{j}"))
                        .collect();
                    let needs: Vec<&str> = needs.iter().map(String::as_str).collect();
                    let mut t = task(&format!("t{i}"), &needs);
                    t.retries.max_retries = retries;
                    t.on_exhausted = if escalate {
                        OnExhausted::Escalate
                    } else {
                        OnExhausted::Fail
                    };
                    t
                })
                .collect(),
        })
}

fn command(state: &WorkflowState, step: &Step, now: DateTime<Utc>) -> Option<WorkflowCommand> {
    let ids: Vec<&TaskId> = state.tasks.keys().collect();
    let pick = |i: usize| ids.get(i % ids.len().max(1)).map(|id| (*id).clone());
    let attempt =
        |id: &TaskId, stale: u32| Attempt(state.tasks[id].attempt.0.saturating_sub(stale));
    Some(match step.clone() {
        Step::Assign { task, agent: a } => WorkflowCommand::AssignTask {
            task_id: pick(task)?,
            agent_id: agent(u128::from(a)),
            candidates: candidates(agent(u128::from(a))),
            now,
        },
        Step::Start { task, stale } => {
            let task_id = pick(task)?;
            WorkflowCommand::StartTask {
                attempt: attempt(&task_id, stale),
                task_id,
                now,
            }
        }
        Step::Progress { task, stale } => {
            let task_id = pick(task)?;
            WorkflowCommand::ReportProgress {
                attempt: attempt(&task_id, stale),
                task_id,
                message: "line".into(),
            }
        }
        Step::Complete { task, stale } => {
            let task_id = pick(task)?;
            WorkflowCommand::CompleteTask {
                attempt: attempt(&task_id, stale),
                task_id,
                output: serde_json::json!({"ok": true}),
                usage: Usage {
                    tokens_in: 1,
                    tokens_out: 2,
                    cost_micros: 3,
                },
                added_tasks: vec![],
                now,
            }
        }
        Step::Fail { task, stale } => {
            let task_id = pick(task)?;
            WorkflowCommand::FailTask {
                attempt: attempt(&task_id, stale),
                task_id,
                error: "exit 1".into(),
                now,
            }
        }
        Step::TimeOut { task, stale } => {
            let task_id = pick(task)?;
            WorkflowCommand::TimeOutTask {
                attempt: attempt(&task_id, stale),
                task_id,
                now,
            }
        }
        Step::Block { task, stale } => {
            let task_id = pick(task)?;
            WorkflowCommand::ReportBlocked {
                attempt: attempt(&task_id, stale),
                task_id,
                reason: "stuck".into(),
            }
        }
        Step::Reassign { task, stale } => {
            let task_id = pick(task)?;
            WorkflowCommand::ReassignTask {
                attempt: attempt(&task_id, stale),
                task_id,
                reason: "unhealthy".into(),
            }
        }
        Step::Resolve { task, decision } => WorkflowCommand::ResolveEscalation {
            task_id: pick(task)?,
            decision: match decision {
                0 => HumanDecision::Retry,
                1 => HumanDecision::Skip,
                2 => HumanDecision::Override {
                    output: serde_json::json!({"by": "human"}),
                },
                _ => HumanDecision::Cancel,
            },
            now,
        },
        Step::Cancel => WorkflowCommand::Cancel {
            reason: "user".into(),
            now,
        },
        Step::Wait { .. } => return None,
    })
}

/// Plays a spec and steps; returns every recorded event, checking the
/// per-decision invariants along the way.
fn play(spec: WorkflowSpec, steps: &[Step]) -> Result<Vec<WorkflowEvent>, TestCaseError> {
    let mut now = t0();
    let mut state = WorkflowState::default();
    let mut history = Vec::new();
    let submit = WorkflowCommand::Submit {
        workflow_id: WorkflowId(Uuid::from_u128(1)),
        spec,
        now,
    };
    let mut pending = vec![submit];
    for step in steps {
        if let Step::Wait { secs } = step {
            now += TimeDelta::seconds(i64::from(*secs));
        }
        pending.extend(command(&state, step, now));
        for cmd in pending.drain(..) {
            let live_before = live_attempt_of(&state, &cmd);
            let Ok(events) = decide(&state, cmd.clone()) else {
                continue;
            };
            for event in &events {
                // Every event `decide` emits is a legal transition.
                prop_assert!(
                    is_legal(&state, event),
                    "illegal {} after {:?}",
                    event.event_type(),
                    state.status
                );
                // Tasks start and complete only after their dependencies.
                if let WorkflowEvent::TaskAssigned(TaskAssigned { task_id, .. })
                | WorkflowEvent::TaskCompleted(TaskCompleted {
                    task_id,
                    overridden: false,
                    ..
                }) = event
                {
                    prop_assert!(
                        state.dependencies_done(task_id),
                        "{task_id} ran before its dependencies"
                    );
                }
                state = evolve(state, event);
            }
            // A result for any attempt but the live one never completes a task.
            if let WorkflowCommand::CompleteTask {
                task_id, attempt, ..
            } = &cmd
                && live_before != Some(*attempt)
            {
                prop_assert!(
                    !events.iter().any(
                        |e| matches!(e, WorkflowEvent::TaskCompleted(c) if c.task_id == *task_id)
                    ),
                    "stale attempt {attempt} completed {task_id}"
                );
            }
            history.extend(events);
        }
    }
    Ok(history)
}

/// The live attempt a command's task has, if any.
fn live_attempt_of(state: &WorkflowState, cmd: &WorkflowCommand) -> Option<Attempt> {
    let WorkflowCommand::CompleteTask { task_id, .. } = cmd else {
        return None;
    };
    state
        .tasks
        .get(task_id)
        .filter(|t| t.status.has_live_attempt())
        .map(|t| t.attempt)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_commands_never_break_the_workflow_invariants(
        spec in arb_spec(),
        steps in prop::collection::vec(arb_step(), 0..80),
    ) {
        let history = play(spec, &steps)?;
        let state = Workflow::fold(&history);
        // Folding the same events twice gives the same state.
        prop_assert_eq!(&Workflow::fold(&history), &state);
        prop_assert_eq!(state.version, history.len() as u64);
        if state.status == WorkflowStatus::Completed {
            prop_assert!(state.tasks.values().all(|t| t.status.satisfies_dependents()));
        }
        if state.status.is_terminal() {
            prop_assert!(state.live_attempts().next().is_none(), "a finished workflow has a live attempt");
        }
    }

    #[test]
    fn folding_recorded_events_round_trips_through_json(
        spec in arb_spec(),
        steps in prop::collection::vec(arb_step(), 0..40),
    ) {
        let history = play(spec, &steps)?;
        let decoded: Vec<WorkflowEvent> = history
            .iter()
            .map(|e| WorkflowEvent::from_parts(e.event_type(), &e.to_data()).unwrap())
            .collect();
        prop_assert_eq!(&decoded, &history);
        prop_assert_eq!(Workflow::fold(&decoded), Workflow::fold(&history));
    }
}
