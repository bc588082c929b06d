//! Supervision: a panicking executor restarts its agent's actor; past the
//! restart intensity the actor stops for good. Both are events.

use crate::support::*;
use futures_util::future::BoxFuture;
use maos_actors::executor::{Executor, Job, Outcome, Progress};
use maos_actors::{AgentDefinition, CommandContext, Error, NodeConfig, RestartPolicy};
use maos_domain::workflow::WorkflowStatus;
use maos_domain::{AgentId, Capability};
use maos_store::Store;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Panics on its first `panics` runs, then completes.
#[derive(Debug)]
struct Panicky {
    runs: Arc<AtomicU32>,
    panics: u32,
}

impl Executor for Panicky {
    fn run(&self, _: Job, _: Progress) -> BoxFuture<'static, Outcome> {
        let run = self.runs.fetch_add(1, Ordering::SeqCst);
        let panics = run < self.panics;
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            assert!(!panics, "boom on run {run}");
            Outcome::Completed {
                output: serde_json::json!({ "run": run }),
                usage: Default::default(),
                added_tasks: vec![],
            }
        })
    }
}

fn config_with_panicky(panics: u32, policy: RestartPolicy) -> (NodeConfig, Arc<AtomicU32>) {
    let runs = Arc::new(AtomicU32::new(0));
    let mut config = NodeConfig {
        restart_policy: policy,
        ..NodeConfig::default()
    };
    let counter = runs.clone();
    config.executors.register(
        "panicky",
        Arc::new(move |_| {
            Ok(Arc::new(Panicky {
                runs: counter.clone(),
                panics,
            }) as Arc<dyn Executor>)
        }),
    );
    (config, runs)
}

fn panicky_agent() -> AgentDefinition {
    AgentDefinition {
        name: "flaky".to_owned(),
        capabilities: vec![Capability("work".to_owned())],
        max_concurrency: 1,
        executor: serde_json::json!({ "kind": "panicky" }),
    }
}

const ONE_TASK: &str = "name: one\ntasks:\n  - id: job\n    capability: work\n    instruction: do it\n    retries: {max_retries: 10, backoff_initial_ms: 10, backoff_max_ms: 10}\n";

pub async fn a_panicking_executor_restarts_its_agent_and_the_task_completes_on_retry(
    store: &Store,
) {
    let (config, runs) = config_with_panicky(1, RestartPolicy::default());
    let (node, _dir) = node(store, config).await;
    let agent: AgentId = register(&node, &[panicky_agent()]).await[0];
    let submitted = node
        .submit(spec(ONE_TASK), CommandContext::default())
        .await
        .unwrap();
    let outcome = finished(&node, submitted.workflow_id).await;
    assert_eq!(outcome.status, WorkflowStatus::Completed);
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    let events = workflow_events(store, submitted.workflow_id).await;
    let failed = task_events(&events, "workflows.task.failed", "job");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].data["attempt"], 1);
    assert!(
        failed[0].data["error"]
            .as_str()
            .unwrap()
            .contains("executor panicked: boom on run 0"),
        "{}",
        failed[0].data
    );
    let completed = task_events(&events, "workflows.task.completed", "job");
    assert_eq!(completed[0].data["attempt"], 2);
    assert_eq!(completed[0].data["output"]["run"], 1);

    let agent_events = wait_for(store, &agent.stream(), |e| {
        e.event_type == "agents.agent.restarted"
    })
    .await;
    assert_eq!(agent_events.data["restarts_in_window"], 1);
    assert!(
        agent_events.data["reason"]
            .as_str()
            .unwrap()
            .contains("boom")
    );
    assert!(node.metrics().restarts.load(Ordering::Relaxed) >= 1);
    node.stop();
}

pub async fn an_agent_past_its_restart_intensity_stops_for_good(store: &Store) {
    let policy = RestartPolicy {
        max_restarts: 2,
        within: Duration::from_secs(60),
    };
    let (config, runs) = config_with_panicky(u32::MAX, policy);
    let (node, _dir) = node(store, config).await;
    let agent: AgentId = register(&node, &[panicky_agent()]).await[0];
    node.submit(spec(ONE_TASK), CommandContext::default())
        .await
        .unwrap();

    let gave_up = wait_for(store, &agent.stream(), |e| {
        e.event_type == "agents.agent.became_unhealthy"
    })
    .await;
    assert!(
        gave_up.data["reason"]
            .as_str()
            .unwrap()
            .contains("gave up after 3 restarts within 60s"),
        "{}",
        gave_up.data
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let agent_events = stream(store, &agent.stream()).await;
    assert_eq!(
        types(&agent_events),
        [
            "agents.agent.registered",
            "agents.agent.restarted",
            "agents.agent.restarted",
            "agents.agent.restarted",
            "agents.agent.became_unhealthy"
        ]
    );
    // The actor is gone: it runs nothing more and takes no commands (the
    // agent is known, from its events, but not running).
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    let err = node
        .retire_agent(agent, "test", CommandContext::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotRunning(_)), "{err:?}");
    node.stop();
}
