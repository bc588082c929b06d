//! DELEGATE and REASSIGN over time: a task waits for a capable agent; an
//! agent that keeps failing becomes unhealthy and its running task moves;
//! cancelling a workflow kills its processes.

use crate::support::*;
use maos_actors::{CommandContext, NodeConfig};
use maos_domain::workflow::WorkflowStatus;
use maos_store::{EventStore, Store};
use std::time::Duration;

pub async fn a_task_waits_for_a_capable_agent_and_runs_when_one_registers(store: &Store) {
    let (node, _dir) = node(store, NodeConfig::default()).await;
    register(&node, &[shell_agent("other", &["docs"], 1)]).await;
    let wf = node
        .submit(
            spec("name: w\ntasks:\n  - {id: gpu, capability: cuda, instruction: echo ran}\n"),
            CommandContext::default(),
        )
        .await
        .unwrap()
        .workflow_id;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let events = workflow_events(store, wf).await;
    assert_eq!(types(&events).last(), Some(&"workflows.task.ready"));
    assert!(task_events(&events, "workflows.task.assigned", "gpu").is_empty());

    let ids = register(&node, &[shell_agent("gpu-box", &["cuda"], 1)]).await;
    let done = finished(&node, wf).await;
    assert_eq!(done.status, WorkflowStatus::Completed);
    let events = workflow_events(store, wf).await;
    let assigned = task_events(&events, "workflows.task.assigned", "gpu");
    assert_eq!(assigned[0].data["agent_id"], ids[0].0.to_string());
    node.stop();
}

const MIXED: &str = r#"
name: mixed
tasks:
  - id: long
    capability: work
    instruction: sleep 2
    retries: {max_retries: 0}
  - id: f1
    capability: work
    instruction: '[ "$MAOS_ATTEMPT" -gt 1 ] || exit 1'
    retries: {max_retries: 1, backoff_initial_ms: 10}
  - id: f2
    capability: work
    instruction: '[ "$MAOS_ATTEMPT" -gt 1 ] || exit 1'
    retries: {max_retries: 1, backoff_initial_ms: 10}
"#;

pub async fn an_agent_failing_in_a_row_becomes_unhealthy_and_its_running_task_moves(store: &Store) {
    let config = NodeConfig {
        unhealthy_after: 2,
        recover_after: Duration::from_secs(3600),
        ..NodeConfig::default()
    };
    let (node, _dir) = node(store, config).await;
    let bad = register(&node, &[shell_agent("bad", &["work"], 3)]).await[0];
    let wf = node
        .submit(spec(MIXED), CommandContext::default())
        .await
        .unwrap()
        .workflow_id;
    wait_for(store, &bad.stream(), |e| {
        e.event_type == "agents.agent.became_unhealthy"
    })
    .await;
    let good = register(&node, &[shell_agent("good", &["work"], 3)]).await[0];
    let done = finished(&node, wf).await;
    assert_eq!(done.status, WorkflowStatus::Completed);

    let events = workflow_events(store, wf).await;
    let reassigned = task_events(&events, "workflows.task.reassigned", "long");
    assert_eq!(reassigned.len(), 1, "{:?}", types(&events));
    assert_eq!(reassigned[0].data["from_agent"], bad.0.to_string());
    assert!(
        reassigned[0].data["reason"]
            .as_str()
            .unwrap()
            .contains("became unhealthy")
    );
    let assigned = task_events(&events, "workflows.task.assigned", "long");
    assert_eq!(
        assigned.last().unwrap().data["agent_id"],
        good.0.to_string()
    );
    // The unhealthy agent was a candidate but not eligible.
    let candidates = assigned.last().unwrap().data["candidates"]
        .as_array()
        .unwrap()
        .clone();
    let bad_candidate = candidates
        .iter()
        .find(|c| c["agent_id"] == bad.0.to_string())
        .unwrap();
    assert_eq!(bad_candidate["eligible"], false);
    assert_eq!(bad_candidate["reasons"][0]["kind"], "unhealthy");
    node.stop();
}

pub async fn cancelling_a_workflow_kills_its_running_processes(store: &Store) {
    let (node, dir) = node(store, NodeConfig::default()).await;
    register(&node, &[shell_agent("w", &["work"], 2)]).await;
    let wf = node
        .submit(
            spec("name: c\ntasks:\n  - {id: a, capability: work, instruction: 'echo $$ > pid; sleep 300 & wait'}\n  - {id: b, capability: work, instruction: 'echo $$ > pid; sleep 300 & wait'}\n"),
            CommandContext::default(),
        )
        .await
        .unwrap()
        .workflow_id;
    let pid = |task: &str| dir.path().join(wf.0.to_string()).join(task).join("pid");
    let leaders = vec![
        maos_testkit::written_pid(&pid("a")).await,
        maos_testkit::written_pid(&pid("b")).await,
    ];
    let ctx = CommandContext {
        user_id: Some("bob".to_owned()),
        ..Default::default()
    };
    node.cancel(wf, "no longer needed", ctx).await.unwrap();
    let done = finished(&node, wf).await;
    assert_eq!(done.status, WorkflowStatus::Cancelled);
    for leader in leaders {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !live_group_members(leader).is_empty() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "group {leader} survived the cancel"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let events = workflow_events(store, wf).await;
    let cancelled = events
        .iter()
        .find(|e| e.event_type == "workflows.workflow.cancelled")
        .unwrap();
    assert_eq!(cancelled.metadata.user_id.as_deref(), Some("bob"));
    assert_eq!(
        cancelled.metadata.correlation_id,
        events[0].metadata.correlation_id
    );
    assert_eq!(
        task_events(&events, "workflows.task.cancelled", "a").len(),
        1
    );
    // Nothing more happens after the end.
    let head = store.head_position().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(store.head_position().await.unwrap(), head);
    node.stop();
}
