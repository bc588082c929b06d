//! ESCALATE: exhausted retries, or an agent that says it is blocked, wait
//! for a human; each answer does what it says.

use crate::support::*;
use maos_actors::{CommandContext, Error, NodeConfig};
use maos_domain::TaskId;
use maos_domain::workflow::{HumanDecision, TaskStatus, WorkflowStatus};
use maos_store::{EventStore, Store};

const FLAKY: &str = r#"
name: escalating
tasks:
  - id: flaky
    capability: work
    retries: {max_retries: 1, backoff_initial_ms: 10}
    on_exhausted: escalate
    instruction: test -f "$MAOS_WORKFLOW_DIR/fixed" || { echo "not fixed yet" >&2; exit 3; }
  - id: after
    capability: work
    needs: [flaky]
    instruction: echo "$MAOS_INPUT" > input.json
"#;

fn t(id: &str) -> TaskId {
    TaskId(id.to_owned())
}

pub async fn exhausted_retries_escalate_and_each_answer_does_what_it_says(store: &Store) {
    let (node, dir) = node(store, NodeConfig::default()).await;
    register(
        &node,
        &[
            shell_agent("w1", &["work"], 2),
            shell_agent("w2", &["work"], 2),
        ],
    )
    .await;
    let answers = [
        HumanDecision::Retry,
        HumanDecision::Skip,
        HumanDecision::Override {
            output: serde_json::json!({"by": "human"}),
        },
        HumanDecision::Cancel,
    ];
    for decision in answers {
        let wf = node
            .submit(spec(FLAKY), CommandContext::default())
            .await
            .unwrap()
            .workflow_id;
        let settled = settled(&node, wf).await;
        assert_eq!(settled.status, WorkflowStatus::Escalated);
        let events = workflow_events(store, wf).await;
        let failed = task_events(&events, "workflows.task.failed", "flaky");
        assert_eq!(failed.len(), 2);
        assert!(
            failed[1].data["error"]
                .as_str()
                .unwrap()
                .contains("not fixed yet")
        );
        let escalated = task_events(&events, "workflows.task.escalated", "flaky");
        assert!(
            escalated[0].data["reason"]
                .as_str()
                .unwrap()
                .contains("retries exhausted after 2 attempts")
        );
        assert_eq!(types(&events).last(), Some(&"workflows.workflow.escalated"));

        let workflow_dir = dir.path().join(wf.0.to_string());
        if decision == HumanDecision::Retry {
            std::fs::write(workflow_dir.join("fixed"), "").unwrap();
        }
        let ctx = CommandContext {
            user_id: Some("alice".to_owned()),
            ..Default::default()
        };
        node.resolve(wf, t("flaky"), decision.clone(), ctx)
            .await
            .unwrap();
        let done = finished(&node, wf).await;
        let events = workflow_events(store, wf).await;
        let input = events
            .iter()
            .find(|e| e.event_type == "workflows.workflow.input_received")
            .unwrap();
        assert_eq!(input.metadata.user_id.as_deref(), Some("alice"));
        // A user's command joins the workflow's correlation.
        assert_eq!(
            input.metadata.correlation_id,
            events[0].metadata.correlation_id
        );
        let flaky = &done.state.tasks[&t("flaky")];
        let after = &done.state.tasks[&t("after")];
        match decision {
            HumanDecision::Retry => {
                assert_eq!(done.status, WorkflowStatus::Completed);
                assert_eq!(flaky.status, TaskStatus::Completed);
                assert_eq!(flaky.attempt.0, 3);
            }
            HumanDecision::Skip => {
                assert_eq!(done.status, WorkflowStatus::Completed);
                assert_eq!(flaky.status, TaskStatus::Skipped);
                assert_eq!(after.status, TaskStatus::Completed);
            }
            HumanDecision::Override { .. } => {
                assert_eq!(done.status, WorkflowStatus::Completed);
                assert_eq!(flaky.output, Some(serde_json::json!({"by": "human"})));
                let seen =
                    std::fs::read_to_string(workflow_dir.join("after").join("input.json")).unwrap();
                let seen: serde_json::Value = serde_json::from_str(&seen).unwrap();
                assert_eq!(
                    seen["dependencies"]["flaky"],
                    serde_json::json!({"by": "human"})
                );
            }
            HumanDecision::Cancel => {
                assert_eq!(done.status, WorkflowStatus::Cancelled);
                assert_eq!(after.status, TaskStatus::Cancelled);
            }
        }
        // A second answer is refused and appends nothing.
        let head = store.head_position().await.unwrap();
        let err = node
            .resolve(
                wf,
                t("flaky"),
                HumanDecision::Skip,
                CommandContext::default(),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Refused(_)), "{err:?}");
        assert_eq!(store.head_position().await.unwrap(), head);
    }
    node.stop();
}

const BLOCKS: &str = r#"
name: blocking
tasks:
  - id: deploy
    capability: work
    instruction: |
      echo '{"blocked": "need production credentials"}' > "$MAOS_RESULT_FILE"
"#;

pub async fn an_agent_that_reports_blocked_escalates_its_task(store: &Store) {
    let (node, _dir) = node(store, NodeConfig::default()).await;
    register(&node, &[shell_agent("w1", &["work"], 1)]).await;
    let wf = node
        .submit(spec(BLOCKS), CommandContext::default())
        .await
        .unwrap()
        .workflow_id;
    let settled = settled(&node, wf).await;
    assert_eq!(settled.status, WorkflowStatus::Escalated);
    let events = workflow_events(store, wf).await;
    let escalated = task_events(&events, "workflows.task.escalated", "deploy");
    assert_eq!(
        escalated[0].data["reason"],
        "agent is blocked: need production credentials"
    );
    let output = serde_json::json!({"deployed": "by hand"});
    node.resolve(
        wf,
        t("deploy"),
        HumanDecision::Override {
            output: output.clone(),
        },
        CommandContext::default(),
    )
    .await
    .unwrap();
    let done = finished(&node, wf).await;
    assert_eq!(done.status, WorkflowStatus::Completed);
    assert_eq!(done.state.tasks[&t("deploy")].output, Some(output));
    node.stop();
}
