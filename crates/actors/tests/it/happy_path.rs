//! A real DAG over real process agents.

use crate::support::*;
use maos_actors::{CommandContext, NodeConfig};
use maos_domain::workflow::{WorkflowEvent, WorkflowState, WorkflowStatus, evolve};
use maos_store::EventStore;
use maos_store::Store;
use std::collections::BTreeMap;

/// Task `i` of 20: capability by `i % 3`; needs `t(i/2)` and, from t05 on,
/// `t(i-3)` too, so the graph has fan-out and fan-in.
fn dag_yaml() -> String {
    let caps = ["build", "test", "docs"];
    let mut yaml = String::from("name: twenty\ninput: {release: \"1.0\"}\ntasks:\n");
    for i in 1..=20 {
        let mut needs = Vec::new();
        if i > 1 {
            needs.push(format!("t{:02}", i / 2));
        }
        if i > 4 && i - 3 != i / 2 {
            needs.push(format!("t{:02}", i - 3));
        }
        yaml.push_str(&format!(
            "  - id: t{i:02}\n    capability: {}\n    instruction: \"echo working on $MAOS_TASK_ID; sleep 0.05; echo done > out.txt\"\n    needs: [{}]\n    timeout_secs: 30\n",
            caps[i % 3],
            needs.join(", ")
        ));
    }
    yaml
}

pub async fn a_dag_of_20_tasks_over_5_process_agents_runs_in_dependency_order(store: &Store) {
    let config = NodeConfig {
        snapshot_every: 10,
        snapshot_events_per_task: 0,
        ..NodeConfig::default()
    };
    let (node, dir) = node(store, config).await;
    let agents = [
        shell_agent("a1", &["build"], 2),
        shell_agent("a2", &["build", "test"], 2),
        shell_agent("a3", &["test"], 2),
        shell_agent("a4", &["docs", "build"], 2),
        shell_agent("a5", &["test", "docs"], 2),
    ];
    let ids = register(&node, &agents).await;
    let capabilities: BTreeMap<String, Vec<String>> = ids
        .iter()
        .zip(&agents)
        .map(|(id, a)| {
            (
                id.0.to_string(),
                a.capabilities.iter().map(|c| c.0.clone()).collect(),
            )
        })
        .collect();
    let spec = spec(&dag_yaml());
    let submitted = node
        .submit(spec.clone(), CommandContext::default())
        .await
        .unwrap();
    let outcome = finished(&node, submitted.workflow_id).await;
    assert_eq!(outcome.status, WorkflowStatus::Completed);

    let events = workflow_events(store, submitted.workflow_id).await;
    let completed_at = |task: &str| {
        let done = task_events(&events, "workflows.task.completed", task);
        assert_eq!(done.len(), 1, "{task} completed {} times", done.len());
        done[0].position
    };
    for task in &spec.tasks {
        let id = task.id.0.as_str();
        for started in task_events(&events, "workflows.task.started", id) {
            for dep in &task.needs {
                assert!(
                    started.position > completed_at(&dep.0),
                    "{id} started at {} before {dep} completed",
                    started.position
                );
            }
        }
        for assigned in task_events(&events, "workflows.task.assigned", id) {
            let agent = assigned.data["agent_id"].as_str().unwrap();
            assert!(
                capabilities[agent].contains(&task.capability.0),
                "{id} ({}) went to an agent without the capability",
                task.capability.0
            );
            let candidates = assigned.data["candidates"].as_array().unwrap();
            assert_eq!(
                candidates[0]["agent_id"], agent,
                "the best candidate was not chosen"
            );
            assert!(!candidates[0]["reasons"].as_array().unwrap().is_empty());
        }
        // The process really ran in the task's workspace.
        let out = dir
            .path()
            .join(submitted.workflow_id.0.to_string())
            .join(id)
            .join("out.txt");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "done\n");
    }
    let last = events.last().unwrap();
    assert_eq!(last.event_type, "workflows.workflow.completed");
    assert_eq!(last.data["summary"]["tasks_completed"], 20);
    // Snapshots were taken, and one equals the fold of the events up to it.
    let snapshot = store
        .load_snapshot(&submitted.workflow_id.stream())
        .await
        .unwrap()
        .expect("no snapshot saved");
    let mut fold = WorkflowState::default();
    for e in &events[..snapshot.version as usize] {
        fold = evolve(
            fold,
            &WorkflowEvent::from_parts(&e.event_type, &e.data).unwrap(),
        );
    }
    let saved: WorkflowState = serde_json::from_value(snapshot.state).unwrap();
    assert_eq!(saved, fold);
    // Every event carries the submission's correlation id.
    assert!(
        events
            .iter()
            .all(|e| e.metadata.correlation_id == submitted.correlation_id)
    );
    node.stop();
}
