//! The `process` executor on its own: limits, scrubbed environment,
//! progress lines, failure messages, cancellation killing the group.

use maos_actors::Outcome;
use maos_actors::executor::process::ProcessExecutor;
use maos_actors::executor::{Executor, Job, Progress};
use maos_domain::{Attempt, Capability, TaskId, WorkflowId};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

fn job(dir: &std::path::Path, instruction: &str) -> Job {
    Job {
        workflow_id: WorkflowId(Uuid::now_v7()),
        task_id: TaskId("t".to_owned()),
        attempt: Attempt(1),
        capability: Capability("shell".to_owned()),
        instruction: instruction.to_owned(),
        input: serde_json::json!({"workflow": {"n": 1}}),
        workflow_dir: dir.to_owned(),
    }
}

fn executor(extra: serde_json::Value) -> ProcessExecutor {
    let mut config = serde_json::json!({"kind": "process", "argv": ["sh", "-c", "{instruction}"], "progress_interval_ms": 0});
    if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    ProcessExecutor::from_config(&config).unwrap()
}

async fn run(executor: &ProcessExecutor, job: Job) -> (Outcome, Vec<String>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let progress = Progress::new(
        Duration::ZERO,
        Arc::new(move |l| sink.lock().unwrap().push(l)),
    );
    let outcome = executor.run(job, progress).await;
    let lines = lines.lock().unwrap().clone();
    (outcome, lines)
}

#[tokio::test]
async fn a_successful_process_gives_its_output_and_progress() {
    let dir = tempfile::tempdir().unwrap();
    let (outcome, lines) = run(
        &executor(serde_json::json!({})),
        job(
            dir.path(),
            "echo one; echo two; echo \"$MAOS_INPUT\" > input.json",
        ),
    )
    .await;
    let Outcome::Completed { output, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(output["stdout"], "one\ntwo");
    assert_eq!(lines, ["one", "two"]);
    let input = std::fs::read_to_string(dir.path().join("t/input.json")).unwrap();
    assert!(input.contains("\"n\":1"), "{input}");
}

#[tokio::test]
async fn a_failing_process_reports_its_exit_status_and_stderr_tail() {
    let dir = tempfile::tempdir().unwrap();
    let (outcome, _) = run(
        &executor(serde_json::json!({})),
        job(dir.path(), "echo oops >&2; exit 7"),
    )
    .await;
    assert_eq!(
        outcome,
        Outcome::Failed {
            error: "exit status 7: oops".to_owned()
        }
    );
}

#[tokio::test]
async fn the_environment_is_scrubbed_to_the_allow_list() {
    // SAFETY-free: the variable is set for this test process only.
    let dir = tempfile::tempdir().unwrap();
    let executor = executor(serde_json::json!({"env_allow": ["PATH"], "env": {"FIXED": "yes"}}));
    let (outcome, _) = run(&executor, job(dir.path(), "env | sort > env.txt")).await;
    assert!(matches!(outcome, Outcome::Completed { .. }), "{outcome:?}");
    let env = std::fs::read_to_string(dir.path().join("t/env.txt")).unwrap();
    let names: Vec<&str> = env
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k))
        .collect();
    assert!(
        names.contains(&"PATH") && names.contains(&"FIXED") && names.contains(&"MAOS_TASK_ID"),
        "{names:?}"
    );
    assert!(!names.contains(&"HOME"), "HOME leaked: {names:?}");
    assert!(
        !names.contains(&"CARGO"),
        "the parent's environment leaked: {names:?}"
    );
}

#[tokio::test]
async fn resource_limits_apply_to_the_process() {
    let dir = tempfile::tempdir().unwrap();
    let executor =
        executor(serde_json::json!({"limits": {"file_size_bytes": 4096, "open_files": 32}}));
    let (outcome, _) = run(
        &executor,
        job(dir.path(), "ulimit -n; head -c 100000 /dev/zero > big"),
    )
    .await;
    let Outcome::Failed { error } = outcome else {
        panic!("{outcome:?}")
    };
    // SIGXFSZ kills the writer; the shell reports it.
    assert!(
        error.contains("exit status") || error.contains("signal"),
        "{error}"
    );
    let written = std::fs::metadata(dir.path().join("t/big")).unwrap().len();
    assert!(written <= 4096, "{written} bytes written past the limit");
    let (outcome, _) = run(&executor, job(dir.path(), "ulimit -n")).await;
    let Outcome::Completed { output, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(output["stdout"], "32");
}

#[tokio::test]
async fn dropping_an_attempt_kills_its_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let executor = executor(serde_json::json!({}));
    let attempt = executor.run(
        job(dir.path(), "echo $$ > leader.pid; sleep 300 & wait"),
        Progress::discard(),
    );
    let handle = tokio::spawn(attempt);
    let pid_file = dir.path().join("t/leader.pid");
    let leader = maos_testkit::written_pid(&pid_file).await;
    assert!(!crate::support::live_group_members(leader).is_empty());
    handle.abort();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !crate::support::live_group_members(leader).is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "group {leader} survived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
