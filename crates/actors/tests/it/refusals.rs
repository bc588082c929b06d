//! Bad specs: a precise message, nothing appended.

use crate::support::*;
use maos_actors::{CommandContext, Error, NodeConfig, parse_workflow_spec};
use maos_domain::workflow::{TaskSpec, WorkflowSpec};
use maos_domain::{Capability, TaskId};
use maos_store::{EventStore, Store};

fn task(id: &str, needs: &[&str]) -> TaskSpec {
    TaskSpec {
        id: TaskId(id.to_owned()),
        capability: Capability("shell".to_owned()),
        instruction: "true".to_owned(),
        needs: needs.iter().map(|n| TaskId((*n).to_owned())).collect(),
        timeout_secs: 60,
        retries: Default::default(),
        on_exhausted: Default::default(),
    }
}

pub async fn bad_specs_are_refused_precisely_and_nothing_is_appended(store: &Store) {
    let (node, _dir) = node(store, NodeConfig::default()).await;
    register(&node, &[shell_agent("a", &["shell"], 1)]).await;
    let head = store.head_position().await.unwrap();

    let cases: [(Vec<TaskSpec>, &str); 3] = [
        (
            vec![task("a", &["c"]), task("b", &["a"]), task("c", &["b"])],
            "tasks form a cycle: a -> c -> b -> a",
        ),
        (
            vec![task("a", &["nope"])],
            "task \"a\" needs unknown task \"nope\"",
        ),
        (
            vec![task("a", &[]), task("a", &[])],
            "task id \"a\" is used more than once",
        ),
    ];
    for (tasks, expected) in cases {
        let spec = WorkflowSpec {
            name: "bad".to_owned(),
            input: serde_json::Value::Null,
            tasks,
        };
        let err = node
            .submit(spec, CommandContext::default())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Refused(_)), "{err:?}");
        assert!(err.to_string().contains(expected), "{err}");
    }
    // An unknown policy is refused while parsing, naming task and field.
    let err = parse_workflow_spec(
        "name: p\ntasks:\n  - {id: deploy, capability: shell, instruction: x, on_exhausted: page_someone}\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("task \"deploy\" (tasks[0]): field on_exhausted: unknown variant `page_someone`, expected `fail` or `escalate`"),
        "{err}"
    );
    assert_eq!(
        store.head_position().await.unwrap(),
        head,
        "something was appended"
    );
    assert!(node.live_workflows().is_empty());
    node.stop();
}
