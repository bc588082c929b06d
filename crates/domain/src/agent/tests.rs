use super::*;
use crate::Error;
use crate::decider::testing::given;
use crate::ids::AgentId;
use chrono::{DateTime, Utc};
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).unwrap()
}

fn registered() -> AgentEvent {
    AgentRegistered {
        agent_id: AgentId(Uuid::from_u128(7)),
        name: "backend-1".into(),
        capabilities: vec!["backend".into()],
        max_concurrency: 2,
        executor: serde_json::json!({"kind": "process"}),
        registered_at: now(),
    }
    .into()
}

#[test]
fn it_registers_an_agent() {
    let state = given::<Agent>(vec![])
        .when(AgentCommand::Register {
            agent_id: AgentId(Uuid::from_u128(7)),
            name: "backend-1".into(),
            capabilities: vec!["backend".into()],
            max_concurrency: 2,
            executor: serde_json::json!({"kind": "process"}),
            now: now(),
        })
        .then(vec![registered()]);
    assert_eq!(state.status, AgentStatus::Healthy);
    assert_eq!(state.max_concurrency, 2);
}

#[test]
fn it_refuses_bad_registrations() {
    let cmd = |caps: Vec<&str>, max| AgentCommand::Register {
        agent_id: AgentId(Uuid::from_u128(7)),
        name: "a".into(),
        capabilities: caps.into_iter().map(Into::into).collect(),
        max_concurrency: max,
        executor: serde_json::Value::Null,
        now: now(),
    };
    given::<Agent>(vec![])
        .when(cmd(vec![], 1))
        .then_error(Error::InvalidAgent(
            "an agent needs at least one capability".into(),
        ));
    given::<Agent>(vec![])
        .when(cmd(vec!["x"], 0))
        .then_error(Error::InvalidAgent(
            "max_concurrency must be between 1 and 10000, got 0".into(),
        ));
    given::<Agent>(vec![registered()])
        .when(cmd(vec!["x"], 1))
        .then_error(Error::AgentAlreadyRegistered);
    given::<Agent>(vec![])
        .when(AgentCommand::Retire {
            reason: "x".into(),
            now: now(),
        })
        .then_error(Error::AgentNotRegistered);
}

#[test]
fn health_moves_between_healthy_and_unhealthy_once() {
    let unhealthy: AgentEvent = AgentBecameUnhealthy {
        reason: "3 failures in a row".into(),
        consecutive_failures: 3,
        at: now(),
    }
    .into();
    let mark = || AgentCommand::MarkUnhealthy {
        reason: "3 failures in a row".into(),
        consecutive_failures: 3,
        now: now(),
    };
    given::<Agent>(vec![registered()])
        .when(mark())
        .then(vec![unhealthy.clone()]);
    given::<Agent>(vec![registered(), unhealthy.clone()])
        .when(mark())
        .then(vec![]);
    let state = given::<Agent>(vec![registered(), unhealthy])
        .when(AgentCommand::Recover {
            reason: "probe ok".into(),
            now: now(),
        })
        .then(vec![
            AgentRecovered {
                reason: "probe ok".into(),
                at: now(),
            }
            .into(),
        ]);
    assert_eq!(state.status, AgentStatus::Healthy);
}

#[test]
fn a_retired_agent_takes_no_more_commands() {
    let retired: AgentEvent = AgentRetired {
        reason: "done".into(),
        at: now(),
    }
    .into();
    given::<Agent>(vec![registered(), retired])
        .when(AgentCommand::Update {
            capabilities: None,
            max_concurrency: Some(3),
        })
        .then_error(Error::AgentRetired);
}

#[test]
fn restarts_are_counted() {
    let state = given::<Agent>(vec![registered()])
        .when(AgentCommand::RecordRestart {
            reason: "executor panicked".into(),
            restarts_in_window: 1,
            now: now(),
        })
        .then(vec![
            AgentRestarted {
                reason: "executor panicked".into(),
                restarts_in_window: 1,
                at: now(),
            }
            .into(),
        ]);
    assert_eq!(state.restarts, 1);
}
