//! PLAN: a planning task's output adds tasks, validated like a spec; an
//! invalid plan fails the attempt with the reason, and only planning tasks
//! may add tasks.

use crate::support::*;
use maos_actors::{CommandContext, NodeConfig};
use maos_domain::TaskId;
use maos_domain::workflow::{TaskStatus, WorkflowStatus};
use maos_store::Store;

fn planner_spec(capability: &str, tasks_json: &str) -> String {
    format!(
        r#"
name: planned
tasks:
  - id: plan
    capability: {capability}
    retries: {{max_retries: 0}}
    instruction: |
      cat > "$MAOS_RESULT_FILE" <<'PLAN'
      {{"output": {{"planned": true}}, "tasks": {tasks_json}}}
      PLAN
"#
    )
}

pub async fn a_plan_adds_tasks_and_a_bad_plan_fails_its_attempt(store: &Store) {
    let (node, _dir) = node(store, NodeConfig::default()).await;
    register(&node, &[shell_agent("p", &["planning", "work"], 2)]).await;

    let good = r#"[{"id": "build", "capability": "work", "instruction": "true", "needs": ["plan"]},
                   {"id": "ship", "capability": "work", "instruction": "true", "needs": ["build"]}]"#;
    let wf = node
        .submit(
            spec(&planner_spec("planning", good)),
            CommandContext::default(),
        )
        .await
        .unwrap()
        .workflow_id;
    let done = finished(&node, wf).await;
    assert_eq!(done.status, WorkflowStatus::Completed);
    assert_eq!(done.state.tasks.len(), 3);
    let events = workflow_events(store, wf).await;
    let added: Vec<&str> = events
        .iter()
        .filter(|e| e.event_type == "workflows.task.added")
        .map(|e| e.data["task"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(added, ["build", "ship"]);

    let cyclic = r#"[{"id": "x", "capability": "work", "instruction": "true", "needs": ["y"]},
                     {"id": "y", "capability": "work", "instruction": "true", "needs": ["x"]}]"#;
    let wf = node
        .submit(
            spec(&planner_spec("planning", cyclic)),
            CommandContext::default(),
        )
        .await
        .unwrap()
        .workflow_id;
    let done = finished(&node, wf).await;
    assert_eq!(done.status, WorkflowStatus::Failed);
    assert_eq!(done.state.tasks.len(), 1, "a refused plan added tasks");
    let events = workflow_events(store, wf).await;
    let failed = task_events(&events, "workflows.task.failed", "plan");
    let error = failed[0].data["error"].as_str().unwrap();
    assert!(
        error.contains(
            "the attempt's output was refused: invalid workflow spec: tasks form a cycle"
        ),
        "{error}"
    );

    // Only a planning task may add tasks.
    let wf = node
        .submit(spec(&planner_spec("work", good)), CommandContext::default())
        .await
        .unwrap()
        .workflow_id;
    let done = finished(&node, wf).await;
    assert_eq!(done.status, WorkflowStatus::Failed);
    assert_eq!(
        done.state.tasks[&TaskId("plan".to_owned())].status,
        TaskStatus::Failed
    );
    let events = workflow_events(store, wf).await;
    let error = task_events(&events, "workflows.task.failed", "plan")[0].data["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        error.contains("is not a planning task and cannot add tasks"),
        "{error}"
    );
    node.stop();
}
