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

/// Makes the child write its pid (its group's id: it leads its own group)
/// to `pid_file` between fork and exec, so the record exists before the
/// task's command runs: a node dying right after the fork still leaves a
/// group a restarted node can find.
pub(super) fn record_in_child(command: &mut tokio::process::Command, pid_file: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let Ok(path) = std::ffi::CString::new(pid_file.as_os_str().as_bytes()) else {
        return;
    };
    // SAFETY: the closure runs in the forked child before exec. It calls
    // only getpid, open, write and close (async-signal-safe) on a path
    // allocated before the fork and a buffer on the stack, and allocates
    // nothing. A failure is ignored: the parent writes the file as well.
    #[allow(unsafe_code)]
    unsafe {
        command.pre_exec(move || {
            let mut digits = [0u8; 20];
            let mut at = digits.len();
            let mut pid = nix::libc::getpid().unsigned_abs();
            loop {
                at -= 1;
                digits[at] = b'0' + (pid % 10) as u8;
                pid /= 10;
                if pid == 0 {
                    break;
                }
            }
            let flags = nix::libc::O_WRONLY
                | nix::libc::O_CREAT
                | nix::libc::O_TRUNC
                | nix::libc::O_CLOEXEC;
            let fd = nix::libc::open(path.as_ptr(), flags, 0o644);
            if fd >= 0 {
                let _ = nix::libc::write(fd, digits[at..].as_ptr().cast(), digits.len() - at);
                let _ = nix::libc::close(fd);
            }
            Ok(())
        });
    }
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
        tracing::debug!(file = %file.display(), "no pid file of a left-behind attempt");
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
    if !same_place {
        tracing::debug!(leader, workspace = %workspace.display(), "the recorded group's leader works elsewhere; left alone");
    }
    same_place && killpg(Pid::from_raw(leader), Signal::SIGKILL).is_ok()
}
