//! The workflows in `examples/` run to completion with `maos run` on the
//! embedded store, as the README shows.

use std::path::Path;
use std::process::Command;

fn run_example(workflow: &str) -> (std::process::Output, tempfile::TempDir) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_maos"))
        .arg("run")
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
        .args(["run", "bad.yaml"])
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
