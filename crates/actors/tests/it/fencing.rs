//! Attempts are fenced: a late result from an earlier attempt is recorded
//! as rejected and never applied.

use crate::support::*;
use maos_actors::{CommandContext, NodeConfig, Outcome};
use maos_domain::workflow::WorkflowStatus;
use maos_domain::{Attempt, TaskId};
use maos_store::Store;

const HANGS: &str = "name: fenced\ntasks:\n  - id: job\n    capability: work\n    instruction: sleep 30\n    timeout_secs: 1\n    retries: {max_retries: 1, backoff_initial_ms: 10}\n";

fn completed(output: serde_json::Value) -> Outcome {
    Outcome::Completed {
        output,
        usage: Default::default(),
        added_tasks: vec![],
    }
}

pub async fn a_late_result_from_an_earlier_attempt_is_rejected_and_recorded(store: &Store) {
    let (node, _dir) = node(store, NodeConfig::default()).await;
    register(
        &node,
        &[
            shell_agent("w1", &["work"], 1),
            shell_agent("w2", &["work"], 1),
        ],
    )
    .await;
    let submitted = node
        .submit(spec(HANGS), CommandContext::default())
        .await
        .unwrap();
    let wf = submitted.workflow_id;
    wait_for(store, &wf.stream(), |e| {
        e.event_type == "workflows.task.started" && e.data["attempt"] == 2
    })
    .await;

    // Attempt 1 timed out; its result arrives late.
    let job = TaskId("job".to_owned());
    node.report_result(
        wf,
        job.clone(),
        Attempt(1),
        completed(serde_json::json!({"late": true})),
        CommandContext::default(),
    )
    .await
    .unwrap();
    let events = workflow_events(store, wf).await;
    let rejected = task_events(&events, "workflows.task.result_rejected", "job");
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].data["attempt"], 1);
    assert_eq!(rejected[0].data["current_attempt"], 2);
    assert_eq!(rejected[0].data["result"], "completed");
    assert!(task_events(&events, "workflows.task.completed", "job").is_empty());

    // The live attempt's result (reported remotely) is applied.
    node.report_result(
        wf,
        job,
        Attempt(2),
        completed(serde_json::json!({"remote": true})),
        CommandContext::default(),
    )
    .await
    .unwrap();
    let outcome = finished(&node, wf).await;
    assert_eq!(outcome.status, WorkflowStatus::Completed);
    let task = &outcome.state.tasks[&TaskId("job".to_owned())];
    assert_eq!(task.output, Some(serde_json::json!({"remote": true})));
    node.stop();
}
