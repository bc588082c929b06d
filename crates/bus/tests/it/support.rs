//! Test helpers: broker URLs, isolated broker names, a store holding a real
//! workflow run, schema validation, and a TCP proxy the test can cut.

use chrono::{DateTime, TimeDelta, Utc};
use maos_bus::{AmqpConfig, NatsConfig};
use maos_domain::workflow::{self, WorkflowCommand, WorkflowSpec};
use maos_domain::{Metadata, WorkflowId};
use maos_store::sqlite::SqliteStore;
use maos_store::{EventStore, ExpectedVersion, NewEvent};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use uuid::Uuid;

pub fn nats_url() -> String {
    std::env::var("MAOS_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

pub fn amqp_url() -> String {
    std::env::var("MAOS_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

/// JetStream settings with a stream and subject prefix of this test's own.
pub fn nats_config(url: String) -> NatsConfig {
    let tag = Uuid::now_v7().simple().to_string();
    let mut config = NatsConfig::new(url);
    config.stream = format!("MAOS_TEST_{tag}");
    config.subject_prefix = format!("maos_test_{tag}.events");
    config.max_age = Duration::from_secs(600);
    config.timeout = Duration::from_secs(1);
    config
}

/// RabbitMQ settings with an exchange of this test's own.
pub fn amqp_config(url: String) -> AmqpConfig {
    let mut config = AmqpConfig::new(url);
    config.exchange = format!("maos.test.{}", Uuid::now_v7().simple());
    config.timeout = Duration::from_secs(1);
    config
}

/// Removes the test's stream and exchange, and its store's directory.
pub async fn cleanup(nats: &NatsConfig, amqp: &AmqpConfig, store: &SqliteStore) {
    if let Some(dir) = store.path().parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
    if let Ok(client) = async_nats::connect(nats.url.as_str()).await {
        let _ = async_nats::jetstream::new(client)
            .delete_stream(&nats.stream)
            .await;
    }
    if let Ok((connection, channel)) = amqp.connect().await {
        let _ = channel
            .exchange_delete(amqp.exchange.as_str().into(), Default::default())
            .await;
        let _ = connection.close(0, "test done".into()).await;
    }
}

pub async fn fresh_store() -> SqliteStore {
    let dir = std::env::temp_dir().join(format!("maos-bus-test-{}", Uuid::now_v7()));
    SqliteStore::open_in(dir)
        .await
        .expect("cannot open a store")
}

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_763_719_200, 0).unwrap() + TimeDelta::seconds(secs)
}

/// Appends the events of one real workflow run (submitted, every task
/// assigned, started and completed, the workflow completed), decided by the
/// domain's `decide`, one decision per append. Returns how many events.
pub async fn append_workflow_run(store: &impl EventStore, tasks: usize) -> u64 {
    let spec: WorkflowSpec = serde_json::from_value(serde_json::json!({
        "name": "relay test",
        "tasks": (0..tasks).map(|i| serde_json::json!({
            "id": format!("t{i}"),
            "capability": "backend",
            "instruction": format!("step {i}"),
            "needs": if i == 0 { vec![] } else { vec![format!("t{}", i - 1)] },
        })).collect::<Vec<_>>(),
    }))
    .unwrap();
    let id = WorkflowId(Uuid::now_v7());
    let stream = id.stream();
    let correlation = Uuid::now_v7();
    let agent = maos_domain::AgentId(Uuid::now_v7());
    let mut state = workflow::WorkflowState::default();
    let mut commands = vec![WorkflowCommand::Submit {
        workflow_id: id,
        spec,
        now: at(0),
    }];
    let mut total = 0;
    for i in 0..tasks {
        let task_id = maos_domain::TaskId(format!("t{i}"));
        let t = i64::try_from(i).unwrap() * 10;
        commands.push(WorkflowCommand::AssignTask {
            task_id: task_id.clone(),
            agent_id: agent,
            candidates: vec![maos_domain::scoring::CandidateScore {
                agent_id: agent,
                eligible: true,
                score: 600,
                reasons: vec![],
            }],
            now: at(t + 1),
        });
        commands.push(WorkflowCommand::StartTask {
            task_id: task_id.clone(),
            attempt: maos_domain::Attempt(1),
            now: at(t + 2),
        });
        commands.push(WorkflowCommand::CompleteTask {
            task_id,
            attempt: maos_domain::Attempt(1),
            output: serde_json::json!({ "ok": i }),
            usage: workflow::Usage::default(),
            added_tasks: vec![],
            now: at(t + 3),
        });
    }
    for command in commands {
        let events = workflow::decide(&state, command).expect("the run is legal");
        let new: Vec<NewEvent> = events
            .iter()
            .map(|e| {
                NewEvent::from_domain(e, Metadata::new(correlation).by_user("tester"))
                    .with_source("test/workflow")
            })
            .collect();
        store
            .append(&stream, ExpectedVersion::after(state.version), new)
            .await
            .expect("append");
        total += events.len() as u64;
        state = events.iter().fold(state, workflow::evolve);
    }
    total
}

/// Validates envelopes against `schemas/events/` (as generated by the
/// domain catalogue, which its own tests keep equal to the files).
pub struct Schemas {
    validators: HashMap<&'static str, jsonschema::Validator>,
}

impl Schemas {
    pub fn load() -> Self {
        let validators = maos_domain::catalogue::all_event_types()
            .map(|t| {
                let path = format!(
                    "{}/../../schemas/events/{t}.json",
                    env!("CARGO_MANIFEST_DIR")
                );
                let schema: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                (
                    t,
                    jsonschema::options()
                        .should_validate_formats(true)
                        .build(&schema)
                        .unwrap(),
                )
            })
            .collect();
        Schemas { validators }
    }

    pub fn assert_valid(&self, body: &[u8]) {
        let value: serde_json::Value = serde_json::from_slice(body).unwrap();
        let event_type = value["type"].as_str().unwrap();
        let validator = self
            .validators
            .get(event_type)
            .unwrap_or_else(|| panic!("no schema for {event_type}"));
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{event_type} envelope is invalid: {errors:?}"
        );
    }
}

/// A TCP proxy from a local port to a broker. `cut` drops every open
/// connection and refuses new ones until `restore`.
#[derive(Clone)]
pub struct Proxy {
    pub port: u16,
    open: Arc<AtomicBool>,
    cut: Arc<Notify>,
}

impl Proxy {
    pub async fn start(target: &str) -> Proxy {
        let target = target.to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = Proxy {
            port,
            open: Arc::new(AtomicBool::new(true)),
            cut: Arc::new(Notify::new()),
        };
        let p = proxy.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if !p.open.load(Ordering::SeqCst) {
                    continue; // dropped: refused
                }
                let target = target.clone();
                let cut = p.cut.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.notified() => {}
                    }
                });
            }
        });
        proxy
    }

    pub fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        self.cut.notify_waiters();
    }

    pub fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

/// `url` with its host and port replaced by the proxy's.
pub fn via(proxy: &Proxy, url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let credentials = authority
        .rsplit_once('@')
        .map(|(c, _)| format!("{c}@"))
        .unwrap_or_default();
    let path = if path.is_empty() {
        String::new()
    } else {
        format!("/{path}")
    };
    format!("{scheme}://{credentials}127.0.0.1:{}{path}", proxy.port)
}

/// The broker address in `url` (host:port).
pub fn target(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    let authority = rest.split('/').next().unwrap();
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, a)| a)
        .to_owned()
}

/// Checks a received sequence: after dropping repeats of an id, positions
/// run 1..=n in order, and every repeat carries an id seen before.
pub fn assert_complete_in_order(received: &[maos_bus::tail::Received], n: u64, broker: &str) {
    let mut seen = std::collections::HashSet::new();
    let mut firsts = Vec::new();
    for r in received {
        if seen.insert(r.event.id) {
            firsts.push(r.event.position);
        }
    }
    assert_eq!(
        firsts,
        (1..=n).collect::<Vec<u64>>(),
        "{broker}: missing or out of order"
    );
}
