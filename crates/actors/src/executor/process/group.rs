//! Killing a process group, also one left behind by a node that died.

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};

/// Sends SIGKILL to a process group when dropped, and removes the group's
/// pid file. While the attempt runs, the pid file in its workspace lets a
/// restarted node find the group if this one dies first.
#[derive(Debug)]
pub(super) struct GroupGuard {
    leader: Pid,
    pid_file: PathBuf,
}

/// Where the process group of `attempt` is recorded, in its workspace.
pub(crate) fn pid_file(workspace: &Path, attempt: u32) -> PathBuf {
    workspace.join(format!(".maos-attempt-{attempt}.pgid"))
}

impl GroupGuard {
    /// Guards the group led by `leader` (started with `process_group(0)`).
    pub(super) fn new(leader: u32, pid_file: PathBuf) -> Self {
        let _ = std::fs::write(&pid_file, leader.to_string());
        GroupGuard {
            leader: Pid::from_raw(i32::try_from(leader).unwrap_or(i32::MAX)),
            pid_file,
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        // ESRCH (the group is already gone) is the usual, fine case.
        let _ = killpg(self.leader, Signal::SIGKILL);
        let _ = std::fs::remove_file(&self.pid_file);
    }
}

/// Kills the process group an attempt left behind in `workspace` (its node
/// died while it ran), if its pid file is there and the group's leader
/// still works in that workspace (so a reused pid is never hit). Returns
/// whether a group was killed.
pub(crate) fn kill_left_behind(workspace: &Path, attempt: u32) -> bool {
    let file = pid_file(workspace, attempt);
    let Ok(text) = std::fs::read_to_string(&file) else {
        return false;
    };
    let _ = std::fs::remove_file(&file);
    let Ok(leader) = text.trim().parse::<i32>() else {
        return false;
    };
    let cwd = std::fs::read_link(format!("/proc/{leader}/cwd"));
    let same_place = match (cwd, workspace.canonicalize()) {
        (Ok(cwd), Ok(workspace)) => cwd == workspace,
        _ => false,
    };
    same_place && killpg(Pid::from_raw(leader), Signal::SIGKILL).is_ok()
}
