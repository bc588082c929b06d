//! Killing a process group.

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// Sends SIGKILL to a process group when dropped.
#[derive(Debug)]
pub(super) struct GroupGuard(Pid);

impl GroupGuard {
    /// Guards the group led by `leader` (started with `process_group(0)`).
    pub(super) fn new(leader: u32) -> Self {
        GroupGuard(Pid::from_raw(i32::try_from(leader).unwrap_or(i32::MAX)))
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        // ESRCH (the group is already gone) is the usual, fine case.
        let _ = killpg(self.0, Signal::SIGKILL);
    }
}
