//! A node killed with SIGKILL in the middle of a workflow of slow tasks,
//! then started again on the same store: the workflow resumes and
//! completes, no event is lost, no attempt is applied twice, and the
//! deadline of the attempt that was running when the node died still fires.

use maos_domain::EventEnvelope;
use maos_store::{EventStore, Store};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const AGENTS: &str = r#"
agents:
  - name: worker-1
    capabilities: [work]
    executor: {kind: process, argv: ["sh", "-c", "{instruction}"]}
  - name: worker-2
    capabilities: [work]
    executor: {kind: process, argv: ["sh", "-c", "{instruction}"]}
"#;

/// Six one-second tasks: a, then b and c, then d, then e and f. The node is
/// killed while d runs; d's first attempt would run for five minutes, so
/// only its deadline, after the restart, ends it (and must kill it).
const WORKFLOW: &str = r#"
name: slow-chain
tasks:
  - {id: a, capability: work, instruction: "sleep 1", timeout_secs: 3}
  - {id: b, capability: work, instruction: "sleep 1", timeout_secs: 3, needs: [a]}
  - {id: c, capability: work, instruction: "sleep 1", timeout_secs: 3, needs: [a]}
  - id: d
    capability: work
    timeout_secs: 3
    needs: [b, c]
    instruction: |
      if [ "$MAOS_ATTEMPT" = 1 ]; then echo $$ > first-attempt.pgid; sleep 300; fi
      sleep 1
  - {id: e, capability: work, instruction: "sleep 1", timeout_secs: 3, needs: [d]}
  - {id: f, capability: work, instruction: "sleep 1", timeout_secs: 3, needs: [d]}
"#;

fn maos(dir: &Path, database_url: &str, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_maos"))
        .args(args)
        .args(["--agents", "agents.yaml", "--database-url", database_url])
        .args(["--embedded", "--http-addr", "127.0.0.1:0"])
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("cannot start maos")
}

/// The one workflow stream's events.
async fn workflow_events(store: &Store) -> Vec<EventEnvelope> {
    let all = store.read_all(0, 100_000).await.unwrap();
    let Some(stream) = all
        .iter()
        .find(|e| e.event_type == "workflows.workflow.submitted")
        .map(|e| e.stream.clone())
    else {
        return Vec::new();
    };
    store.read_stream(&stream, 0, 100_000).await.unwrap()
}

fn count(events: &[EventEnvelope], event_type: &str) -> usize {
    events.iter().filter(|e| e.event_type == event_type).count()
}

/// Attempts that started and have not ended, as (task, attempt).
fn live_attempts(events: &[EventEnvelope]) -> BTreeSet<(String, u64)> {
    let mut live = BTreeSet::new();
    for e in events {
        let key = || {
            (
                e.data["task_id"].as_str().unwrap_or_default().to_owned(),
                e.data["attempt"].as_u64().unwrap_or_default(),
            )
        };
        match e.event_type.as_str() {
            "workflows.task.started" => {
                live.insert(key());
            }
            "workflows.task.completed" | "workflows.task.failed" | "workflows.task.timed_out" => {
                live.remove(&key());
            }
            _ => {}
        }
    }
    live
}

async fn wait_until(store: &Store, what: &str, pred: impl Fn(&[EventEnvelope]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let events = workflow_events(store).await;
        if pred(&events) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn a_killed_node_resumes_and_completes(store: Store, database_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("agents.yaml"), AGENTS).unwrap();
    std::fs::write(dir.path().join("workflow.yaml"), WORKFLOW).unwrap();

    let mut first = maos(dir.path(), database_url, &["run", "workflow.yaml"]);
    // d runs alone for a second after a, b and c: kill the node then.
    wait_until(&store, "a, b and c done and d running", |events| {
        count(events, "workflows.task.completed") >= 3 && !live_attempts(events).is_empty()
    })
    .await;
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let before = workflow_events(&store).await;
    let live_at_kill = live_attempts(&before);
    assert!(!live_at_kill.is_empty());

    let mut second = maos(dir.path(), database_url, &["up"]);
    wait_until(&store, "the workflow to complete", |events| {
        count(events, "workflows.workflow.completed") == 1
    })
    .await;
    second.kill().unwrap();
    second.wait().unwrap();

    let after = workflow_events(&store).await;
    // No event lost: the log before the kill is a prefix of the final one.
    assert_eq!(after[..before.len()], before[..]);
    // Every task completed exactly once; no attempt ended twice.
    let mut endings: BTreeMap<(String, u64), usize> = BTreeMap::new();
    for e in &after {
        if matches!(
            e.event_type.as_str(),
            "workflows.task.completed" | "workflows.task.failed" | "workflows.task.timed_out"
        ) {
            let key = (
                e.data["task_id"].as_str().unwrap().to_owned(),
                e.data["attempt"].as_u64().unwrap(),
            );
            *endings.entry(key).or_default() += 1;
        }
    }
    assert!(endings.values().all(|n| *n == 1), "{endings:?}");
    for task in ["a", "b", "c", "d", "e", "f"] {
        let completions = after
            .iter()
            .filter(|e| e.event_type == "workflows.task.completed" && e.data["task_id"] == task)
            .count();
        assert_eq!(completions, 1, "task {task}");
    }
    // The process group d's first attempt left behind was killed when its
    // deadline fired after the restart.
    let workflow_dir = crate::only_workflow_dir(dir.path());
    let pgid: i32 = std::fs::read_to_string(workflow_dir.join("d/first-attempt.pgid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !maos_testkit::live_group_members(pgid).is_empty() {
        assert!(
            Instant::now() < deadline,
            "d's first attempt survived: {:?}",
            maos_testkit::live_group_members(pgid)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The attempts running when the node died timed out at their deadlines
    // after the restart, and were retried.
    for (task, attempt) in &live_at_kill {
        let timed_out = after[before.len()..].iter().any(|e| {
            e.event_type == "workflows.task.timed_out"
                && e.data["task_id"] == task.as_str()
                && e.data["attempt"] == *attempt
        });
        assert!(
            timed_out,
            "{task} attempt {attempt} did not time out after the restart"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_resumes_and_completes_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = maos_testkit::sqlite_url(dir.path());
    let store = Store::open(&url).await.unwrap();
    a_killed_node_resumes_and_completes(store, &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_resumes_and_completes_on_postgres() {
    let url = maos_testkit::postgres_database().await;
    let store = Store::open(&url).await.unwrap();
    a_killed_node_resumes_and_completes(store.clone(), &url).await;
    maos_testkit::cleanup(store).await;
}
