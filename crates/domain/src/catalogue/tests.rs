//! The schema test: every event type has a committed schema equal to the
//! one the code generates, every committed schema belongs to a type, and a
//! sample of every variant validates against its schema and decodes back.
//!
//! `MAOS_BLESS=1 cargo test -p maos-domain catalogue` rewrites the files.

use super::*;
use crate::DomainEvent;
use crate::agent::*;
use crate::ids::*;
use crate::scoring::{CandidateScore, ScoreReason};
use crate::workflow::*;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::path::PathBuf;
use uuid::Uuid;

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas/events")
}

fn at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_763_719_200, 0).unwrap()
}

fn task_spec() -> TaskSpec {
    TaskSpec {
        id: "build".into(),
        capability: "backend".into(),
        instruction: "cargo build".into(),
        needs: vec!["plan".into()],
        timeout_secs: 60,
        retries: RetryPolicy::default(),
        on_exhausted: OnExhausted::Escalate,
    }
}

/// One sample of every workflow event variant.
fn workflow_samples() -> Vec<WorkflowEvent> {
    let task_id = TaskId::from("build");
    let agent = AgentId(Uuid::from_u128(1));
    vec![
        WorkflowSubmitted {
            workflow_id: WorkflowId(Uuid::from_u128(9)),
            spec: WorkflowSpec {
                name: "demo".into(),
                input: serde_json::json!({"repo": "."}),
                tasks: vec![task_spec()],
            },
            submitted_at: at(),
            forked_from: Some(ForkOrigin {
                workflow_id: WorkflowId(Uuid::from_u128(8)),
                version: 12,
            }),
        }
        .into(),
        WorkflowStarted { started_at: at() }.into(),
        WorkflowEscalated {
            task_id: task_id.clone(),
            reason: "blocked".into(),
        }
        .into(),
        WorkflowInputReceived {
            task_id: task_id.clone(),
            decision: HumanDecision::Override {
                output: serde_json::json!({"ok": true}),
            },
            received_at: at(),
        }
        .into(),
        WorkflowCompleted {
            completed_at: at(),
            summary: WorkflowSummary {
                duration_ms: 1200,
                tasks_completed: 1,
                tasks_skipped: 0,
                attempts: [(task_id.clone(), 2)].into(),
                usage: Usage {
                    tokens_in: 10,
                    tokens_out: 20,
                    cost_micros: 30,
                },
            },
        }
        .into(),
        WorkflowFailed {
            task_id: Some(task_id.clone()),
            reason: "exhausted".into(),
            failed_at: at(),
        }
        .into(),
        WorkflowCancelled {
            reason: "user".into(),
            cancelled_at: at(),
        }
        .into(),
        TaskAdded {
            task: task_spec(),
            added_by: "plan".into(),
        }
        .into(),
        TaskReady {
            task_id: task_id.clone(),
        }
        .into(),
        TaskAssigned {
            task_id: task_id.clone(),
            attempt: Attempt(1),
            agent_id: agent,
            deadline: at(),
            assigned_at: at(),
            candidates: vec![CandidateScore {
                agent_id: agent,
                eligible: true,
                score: 700,
                reasons: vec![
                    ScoreReason::FreeCapacity {
                        load: 0,
                        max_concurrency: 1,
                        points: 400,
                    },
                    ScoreReason::SuccessRate {
                        completed: 0,
                        failed: 0,
                        points: 200,
                    },
                    ScoreReason::NoLatencyHistory { points: 100 },
                ],
            }],
        }
        .into(),
        TaskStarted {
            task_id: task_id.clone(),
            attempt: Attempt(1),
            started_at: at(),
        }
        .into(),
        TaskProgressed {
            task_id: task_id.clone(),
            attempt: Attempt(1),
            message: "compiling".into(),
        }
        .into(),
        TaskCompleted {
            task_id: task_id.clone(),
            attempt: Attempt(1),
            output: serde_json::json!({"artifact": "target/app"}),
            usage: Usage::default(),
            completed_at: at(),
            overridden: false,
        }
        .into(),
        TaskFailed {
            task_id: task_id.clone(),
            attempt: Attempt(1),
            error: "exit 1".into(),
            failed_at: at(),
        }
        .into(),
        TaskTimedOut {
            task_id: task_id.clone(),
            attempt: Attempt(1),
            deadline: at(),
        }
        .into(),
        TaskRetryScheduled {
            task_id: task_id.clone(),
            retry: 1,
            not_before: at(),
            avoid_agent: Some(agent),
        }
        .into(),
        TaskReassigned {
            task_id: task_id.clone(),
            attempt: Attempt(1),
            from_agent: agent,
            reason: "unhealthy".into(),
        }
        .into(),
        TaskEscalated {
            task_id: task_id.clone(),
            reason: "retries exhausted".into(),
        }
        .into(),
        TaskSkipped {
            task_id: task_id.clone(),
            reason: "human".into(),
        }
        .into(),
        TaskCancelled {
            task_id: task_id.clone(),
            reason: "workflow cancelled".into(),
        }
        .into(),
        TaskCarriedOver {
            task_id: task_id.clone(),
            output: serde_json::json!({"artifact": "target/app"}),
            usage: Usage {
                tokens_in: 1,
                tokens_out: 2,
                cost_micros: 3,
            },
        }
        .into(),
        TaskResultRejected {
            task_id,
            attempt: Attempt(1),
            current_attempt: Attempt(2),
            result: "completed".into(),
        }
        .into(),
    ]
}

/// One sample of every agent event variant.
fn agent_samples() -> Vec<AgentEvent> {
    vec![
        AgentRegistered {
            agent_id: AgentId(Uuid::from_u128(1)),
            name: "backend-1".into(),
            capabilities: vec!["backend".into()],
            max_concurrency: 2,
            executor: serde_json::json!({"kind": "process", "argv": ["sh", "-c", "{instruction}"]}),
            registered_at: at(),
        }
        .into(),
        AgentUpdated {
            capabilities: None,
            max_concurrency: Some(4),
        }
        .into(),
        AgentBecameUnhealthy {
            reason: "3 failures".into(),
            consecutive_failures: 3,
            at: at(),
        }
        .into(),
        AgentRecovered {
            reason: "manual".into(),
            at: at(),
        }
        .into(),
        AgentRestarted {
            reason: "panic".into(),
            restarts_in_window: 1,
            at: at(),
        }
        .into(),
        AgentRetired {
            reason: "done".into(),
            at: at(),
        }
        .into(),
    ]
}

fn envelope(stream: String, event: &dyn DomainEvent, n: u64) -> Value {
    let env = crate::EventEnvelope {
        id: Uuid::from_u128(1000 + u128::from(n)),
        event_type: event.event_type().to_owned(),
        stream,
        version: n,
        position: n,
        timestamp: at(),
        source: "node-1/workflow".into(),
        data: event.to_data(),
        metadata: crate::Metadata::new(Uuid::from_u128(5))
            .caused_by(Uuid::from_u128(6))
            .by_user("alice"),
    };
    serde_json::to_value(env).unwrap()
}

fn samples() -> Vec<(String, Value)> {
    let wf = WorkflowId(Uuid::from_u128(9)).stream();
    let ag = AgentId(Uuid::from_u128(1)).stream();
    let mut out = Vec::new();
    for (n, e) in workflow_samples().iter().enumerate() {
        out.push((
            e.event_type().to_owned(),
            envelope(wf.clone(), e, n as u64 + 1),
        ));
    }
    for (n, e) in agent_samples().iter().enumerate() {
        out.push((
            e.event_type().to_owned(),
            envelope(ag.clone(), e, n as u64 + 1),
        ));
    }
    out
}

fn committed_schema(event_type: &str) -> Value {
    let path = schema_dir().join(format!("{event_type}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("no schema for {event_type} at {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn every_variant_has_exactly_one_sample() {
    let types: Vec<String> = samples().into_iter().map(|(t, _)| t).collect();
    let unique: BTreeSet<&str> = types.iter().map(String::as_str).collect();
    assert_eq!(unique.len(), types.len(), "a type is sampled twice");
    let all: BTreeSet<&str> = all_event_types().collect();
    assert_eq!(unique, all, "samples and event types differ");
}

#[test]
fn committed_schemas_match_the_code() {
    let bless = std::env::var_os("MAOS_BLESS").is_some();
    for event_type in all_event_types() {
        let generated = envelope_schema(event_type).unwrap();
        let path = schema_dir().join(format!("{event_type}.json"));
        if bless {
            let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
            std::fs::write(&path, text).unwrap();
            continue;
        }
        assert_eq!(
            committed_schema(event_type),
            generated,
            "schema of {event_type} drifted from {}; if the change is intended, add a schema version and run MAOS_BLESS=1",
            path.display()
        );
    }
}

#[test]
fn every_committed_schema_belongs_to_an_event_type() {
    let all: BTreeSet<&str> = all_event_types().collect();
    for entry in std::fs::read_dir(schema_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let event_type = name
            .strip_suffix(".json")
            .unwrap_or_else(|| panic!("stray file {name}"));
        assert!(all.contains(event_type), "schema {name} has no event type");
    }
}

#[test]
fn every_sample_validates_against_its_schema_and_decodes() {
    for (event_type, sample) in samples() {
        let schema = committed_schema(&event_type);
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("schema of {event_type} does not compile: {e}"));
        let errors: Vec<String> = validator
            .iter_errors(&sample)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{event_type} sample is invalid: {errors:?}"
        );
        let data = &sample["data"];
        let decoded_ok = WorkflowEvent::from_parts(&event_type, data)
            .map(|e| e.to_data())
            .or_else(|_| AgentEvent::from_parts(&event_type, data).map(|e| e.to_data()));
        assert_eq!(
            decoded_ok.as_ref(),
            Ok(data),
            "{event_type} does not round-trip"
        );
    }
}

/// Decoding from JSON text (what the store reads) gives exactly what
/// decoding from a JSON tree gives, for every variant; a malformed payload
/// or an unknown type is refused by both.
#[test]
fn decoding_from_text_equals_decoding_from_a_tree() {
    for e in workflow_samples() {
        let text = serde_json::to_string(&e.to_data()).unwrap();
        assert_eq!(
            WorkflowEvent::from_json(e.event_type(), &text).as_ref(),
            Ok(&e),
            "{}",
            e.event_type()
        );
    }
    for e in agent_samples() {
        let text = serde_json::to_string(&e.to_data()).unwrap();
        assert_eq!(
            AgentEvent::from_json(e.event_type(), &text).as_ref(),
            Ok(&e),
            "{}",
            e.event_type()
        );
    }
    assert!(matches!(
        WorkflowEvent::from_json("workflows.task.assigned", r#"{"attempt": "one"}"#),
        Err(crate::DecodeError::MalformedData { .. })
    ));
    let text = serde_json::to_string(&workflow_samples()[0].to_data()).unwrap();
    assert!(
        matches!(
            WorkflowEvent::from_json(workflow_samples()[0].event_type(), &format!("{text} x")),
            Err(crate::DecodeError::MalformedData { .. })
        ),
        "text after the payload is refused"
    );
    assert!(matches!(
        WorkflowEvent::from_json("workflows.task.nope", "{}"),
        Err(crate::DecodeError::UnknownType(_))
    ));
}

#[test]
fn a_schema_rejects_a_wrong_envelope() {
    let (event_type, mut sample) = samples().remove(9); // workflows.task.assigned
    assert_eq!(event_type, "workflows.task.assigned");
    let validator = jsonschema::validator_for(&committed_schema(&event_type)).unwrap();
    sample["data"]["attempt"] = serde_json::json!("one");
    assert!(!validator.is_valid(&sample));
    sample["data"]["attempt"] = serde_json::json!(1);
    sample["type"] = serde_json::json!("workflows.task.started");
    assert!(!validator.is_valid(&sample));
}
