//! MONITOR and REASSIGN: a deadline kills the attempt's whole process group
//! and the retry goes to another agent.

use crate::support::*;
use maos_actors::{CommandContext, NodeConfig};
use maos_domain::workflow::WorkflowStatus;
use maos_store::Store;
use std::time::Duration;

/// Attempt 1 starts a background child and hangs; later attempts finish.
const SLOW: &str = r#"
name: slow
tasks:
  - id: hang
    capability: work
    timeout_secs: 1
    retries: {max_retries: 2, backoff_initial_ms: 10}
    instruction: |
      if [ "$MAOS_ATTEMPT" = 1 ]; then
        echo $$ > leader.pid
        sleep 300 &
        echo $! > child.pid
        wait
      fi
      echo finished
"#;

pub async fn a_task_past_its_deadline_is_killed_timed_out_and_retried_elsewhere(store: &Store) {
    let (node, dir) = node(store, NodeConfig::default()).await;
    register(
        &node,
        &[
            shell_agent("w1", &["work"], 1),
            shell_agent("w2", &["work"], 1),
        ],
    )
    .await;
    let submitted = node
        .submit(spec(SLOW), CommandContext::default())
        .await
        .unwrap();
    let outcome = finished(&node, submitted.workflow_id).await;
    assert_eq!(outcome.status, WorkflowStatus::Completed);

    let events = workflow_events(store, submitted.workflow_id).await;
    let timed_out = task_events(&events, "workflows.task.timed_out", "hang");
    assert_eq!(timed_out.len(), 1);
    assert_eq!(timed_out[0].data["attempt"], 1);
    let assigned = task_events(&events, "workflows.task.assigned", "hang");
    assert_eq!(assigned.len(), 2);
    assert_ne!(
        assigned[0].data["agent_id"], assigned[1].data["agent_id"],
        "the retry went to the agent that timed out"
    );
    assert_eq!(
        task_events(&events, "workflows.task.retry_scheduled", "hang")[0].data["avoid_agent"],
        assigned[0].data["agent_id"]
    );
    let completed = task_events(&events, "workflows.task.completed", "hang");
    assert_eq!(completed[0].data["attempt"], 2);

    // The whole process group of attempt 1 is gone, the background child too.
    let workspace = dir
        .path()
        .join(submitted.workflow_id.0.to_string())
        .join("hang");
    let leader: i32 = std::fs::read_to_string(workspace.join("leader.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let child: i32 = std::fs::read_to_string(workspace.join("child.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !live_group_members(leader).is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "process group {leader} still has {:?} (child {child})",
            live_group_members(leader)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    node.stop();
}
