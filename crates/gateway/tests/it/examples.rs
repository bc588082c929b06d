//! The workflows in `examples/` run to completion with `maos run` on the
//! embedded store, as the README shows.

use std::path::Path;
use std::process::Command;

fn run_example(workflow: &str) -> (std::process::Output, tempfile::TempDir) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_maos"))
        .args(["--embedded", "run"])
        .arg(root.join("examples").join(workflow))
        .arg("--agents")
        .arg(root.join("examples/agents.yaml"))
        .current_dir(dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .expect("cannot run maos");
    (output, dir)
}

#[test]
fn the_sample_project_is_planned_built_tested_and_packaged() {
    let (output, dir) = run_example("sample-project.yaml");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("completed: 7/7 tasks done"), "{stdout}");
    // The package exists in the workflow's directory.
    let workflow_dir = crate::only_workflow_dir(dir.path());
    assert!(workflow_dir.join("calc-0.1.0.tar.gz").is_file());
    assert!(dir.path().join(".maos/maos.db").is_file());
}

#[test]
fn hello_runs() {
    let (output, _dir) = run_example("hello.yaml");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_bad_spec_is_refused_with_a_one_line_message_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "name: bad\ntasks:\n  - {id: a, capability: x, instruction: y, needs: [a]}\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_maos"))
        .args(["--embedded", "run", "bad.yaml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("bad.yaml: invalid workflow spec: tasks form a cycle: a -> a"),
        "{stderr}"
    );
    // Refused before anything was opened or written.
    assert!(!dir.path().join(".maos").exists());
}

/// `maos run` on a spec written into a fresh directory, with one shell agent.
fn run_spec(spec: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("wf.yaml"), spec).unwrap();
    std::fs::write(
        dir.path().join("agents.yaml"),
        "agents:\n  - {name: w, capabilities: [work], executor: {kind: process, argv: [sh, -c, '{instruction}']}}\n",
    )
    .unwrap();
    Command::new(env!("CARGO_BIN_EXE_maos"))
        .args(["--embedded", "run", "wf.yaml", "--agents", "agents.yaml"])
        .current_dir(dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn the_exit_status_tells_failed_and_escalated_apart() {
    let failed = run_spec(
        "name: f\ntasks:\n  - {id: a, capability: work, instruction: 'exit 1', retries: {max_retries: 0}}\n",
    );
    assert_eq!(failed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&failed.stdout).contains("failed: 0/1 tasks done"));
    let escalated = run_spec(
        "name: e\ntasks:\n  - {id: a, capability: work, instruction: 'exit 1', retries: {max_retries: 0}, on_exhausted: escalate}\n",
    );
    assert_eq!(escalated.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&escalated.stdout).contains("escalated: 0/1 tasks done"));
}
