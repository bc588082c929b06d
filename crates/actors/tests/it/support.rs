//! Agents, nodes and event-log helpers for orchestration tests.

use maos_actors::{AgentDefinition, CommandContext, Node, NodeConfig};
use maos_domain::workflow::WorkflowSpec;
use maos_domain::{AgentId, EventEnvelope, WorkflowId};
use maos_store::{EventStore, Store};
use std::time::Duration;

pub use maos_testkit::live_group_members;

/// A node on `store` whose workspaces live in a fresh temporary directory.
pub async fn node(store: &Store, config: NodeConfig) -> (Node, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = NodeConfig {
        workspace_root: dir.path().to_owned(),
        ..config
    };
    let node = Node::start(store.clone(), config).await.unwrap();
    (node, dir)
}

/// An agent running shell commands: argv `sh -c {instruction}`.
pub fn shell_agent(name: &str, capabilities: &[&str], max_concurrency: u32) -> AgentDefinition {
    AgentDefinition {
        name: name.to_owned(),
        capabilities: capabilities
            .iter()
            .map(|c| maos_domain::Capability((*c).to_owned()))
            .collect(),
        max_concurrency,
        executor: serde_json::json!({ "kind": "process", "argv": ["sh", "-c", "{instruction}"] }),
    }
}

pub async fn register(node: &Node, agents: &[AgentDefinition]) -> Vec<AgentId> {
    let mut ids = Vec::new();
    for a in agents {
        ids.push(
            node.register_agent(a, CommandContext::default())
                .await
                .unwrap(),
        );
    }
    ids
}

pub fn spec(yaml: &str) -> WorkflowSpec {
    maos_actors::parse_workflow_spec(yaml).unwrap()
}

/// Every event of a stream.
pub async fn stream(store: &Store, stream: &str) -> Vec<EventEnvelope> {
    store.read_stream(stream, 0, 100_000).await.unwrap()
}

pub async fn workflow_events(store: &Store, id: WorkflowId) -> Vec<EventEnvelope> {
    stream(store, &id.stream()).await
}

/// Waits (up to 30 s) until the stream holds an event matching `pred`.
pub async fn wait_for(
    store: &Store,
    stream_name: &str,
    pred: impl Fn(&EventEnvelope) -> bool,
) -> EventEnvelope {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(e) = stream(store, stream_name)
            .await
            .into_iter()
            .find(|e| pred(e))
        {
            return e;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no matching event in {stream_name} after 30 s: {:#?}",
            stream(store, stream_name)
                .await
                .iter()
                .map(|e| (&e.event_type, &e.data))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The event types of a stream, in order.
pub fn types(events: &[EventEnvelope]) -> Vec<&str> {
    events.iter().map(|e| e.event_type.as_str()).collect()
}

/// Events of `event_type` about `task`.
pub fn task_events<'e>(
    events: &'e [EventEnvelope],
    event_type: &str,
    task: &str,
) -> Vec<&'e EventEnvelope> {
    events
        .iter()
        .filter(|e| e.event_type == event_type && e.data["task_id"] == task)
        .collect()
}

/// Waits (up to 60 s) for the workflow to finish; on expiry fails with its
/// events.
pub async fn finished(node: &Node, id: WorkflowId) -> maos_actors::WorkflowOutcome {
    settle(node, id, false).await
}

/// Waits (up to 60 s) for the workflow to finish or escalate.
pub async fn settled(node: &Node, id: WorkflowId) -> maos_actors::WorkflowOutcome {
    settle(node, id, true).await
}

async fn settle(node: &Node, id: WorkflowId, escalated_too: bool) -> maos_actors::WorkflowOutcome {
    let wait = async {
        if escalated_too {
            node.wait_settled(id).await
        } else {
            node.wait_finished(id).await
        }
    };
    match tokio::time::timeout(Duration::from_secs(60), wait).await {
        Ok(outcome) => outcome.unwrap(),
        Err(_) => {
            let events = workflow_events(node.store(), id).await;
            panic!(
                "workflow {id} did not settle in 60 s: {:#?}",
                events
                    .iter()
                    .map(|e| (&e.event_type, &e.data))
                    .collect::<Vec<_>>()
            )
        }
    }
}
