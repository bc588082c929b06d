//! The `maos` binary, driven as a user would: as a process.

mod api;
mod crash_recovery;
mod examples;
mod relay_crash;

/// The directory of the one workflow run in `cwd` (under the default
/// `.maos/workspaces`).
fn only_workflow_dir(cwd: &std::path::Path) -> std::path::PathBuf {
    let mut dirs = std::fs::read_dir(cwd.join(".maos/workspaces")).expect("no workspaces");
    let dir = dirs.next().expect("no workflow directory").unwrap().path();
    assert!(dirs.next().is_none(), "more than one workflow directory");
    dir
}
