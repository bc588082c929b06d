//! Resource limits for a task's process, set with setrlimit in the child
//! before it execs.

use nix::sys::resource::{Resource, setrlimit};
use serde::Deserialize;
use tokio::process::Command;

/// Limits applied to each attempt's process; absent ones are inherited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub cpu_secs: Option<u64>,
    pub address_space_bytes: Option<u64>,
    pub open_files: Option<u64>,
    pub file_size_bytes: Option<u64>,
}

impl Limits {
    fn pairs(self) -> Vec<(Resource, u64)> {
        [
            (Resource::RLIMIT_CPU, self.cpu_secs),
            (Resource::RLIMIT_AS, self.address_space_bytes),
            (Resource::RLIMIT_NOFILE, self.open_files),
            (Resource::RLIMIT_FSIZE, self.file_size_bytes),
        ]
        .into_iter()
        .filter_map(|(r, v)| v.map(|v| (r, v)))
        .collect()
    }
}

/// Makes the child set `limits` on itself between fork and exec.
pub(super) fn apply(command: &mut Command, limits: Limits) {
    let pairs = limits.pairs();
    if pairs.is_empty() {
        return;
    }
    // SAFETY: the closure runs in the forked child before exec. It only
    // calls setrlimit (async-signal-safe) on a vector allocated before the
    // fork, and allocates nothing.
    #[allow(unsafe_code)]
    unsafe {
        command.pre_exec(move || {
            for (resource, value) in &pairs {
                setrlimit(*resource, *value, *value).map_err(std::io::Error::from)?;
            }
            Ok(())
        });
    }
}
