//! The `process` executor: one OS process per attempt.
//!
//! ```yaml
//! executor:
//!   kind: process
//!   argv: ["sh", "-c", "{instruction}"]   # placeholders: {instruction} {workspace} {input} {task_id} {attempt}
//!   env_allow: [PATH, HOME, LANG]          # the only variables passed on (default shown in DEFAULT_ENV_ALLOW)
//!   env: {CARGO_TERM_COLOR: never}         # fixed extra variables
//!   limits: {cpu_secs: 600, address_space_bytes: 4294967296, open_files: 1024, file_size_bytes: 1073741824}
//!   output_cap_bytes: 1048576              # stdout and stderr kept per attempt (the tail)
//!   progress_interval_ms: 500              # at most one progress event per interval
//! ```
//!
//! The process runs in `<workflow dir>/<task id>` (created), in its own
//! process group, with the environment scrubbed to the allow-list plus
//! `MAOS_WORKFLOW_ID`, `MAOS_TASK_ID`, `MAOS_ATTEMPT`, `MAOS_WORKSPACE`,
//! `MAOS_WORKFLOW_DIR`, `MAOS_INPUT` (JSON) and `MAOS_RESULT_FILE`. Stdout
//! lines become throttled progress events. Exit 0 is success; the output is
//! the JSON in `MAOS_RESULT_FILE` if the process wrote one (`{"output": …,
//! "tasks": [...], "usage": {...}}`, or `{"blocked": "reason"}` to ask for a
//! human), else the tail of stdout. Any other exit is a failure carrying the
//! tail of stderr. Dropping the attempt (timeout, cancel) kills the whole
//! process group.

pub(crate) mod group;
mod limits;
mod output;

use super::{Executor, Job, Outcome, Progress};
use crate::Error;
use futures_util::future::BoxFuture;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::process::Stdio;
use tokio::process::Command;

pub(crate) use group::kill_left_behind;
pub use limits::Limits;

/// Variables passed on when a config names none.
pub const DEFAULT_ENV_ALLOW: &[&str] =
    &["PATH", "HOME", "LANG", "LC_ALL", "TERM", "TMPDIR", "USER"];

/// Stdout and stderr kept per attempt unless configured.
pub const DEFAULT_OUTPUT_CAP: usize = 1 << 20;

/// Bytes of stdout or stderr put into an event.
const TAIL_IN_EVENT: usize = 4096;

/// A configured process executor.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessExecutor {
    #[serde(default = "kind")]
    kind: String,
    pub argv: Vec<String>,
    #[serde(default = "default_env_allow")]
    pub env_allow: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default = "default_output_cap")]
    pub output_cap_bytes: usize,
    #[serde(default = "default_progress_interval_ms")]
    pub progress_interval_ms: u64,
}

fn kind() -> String {
    "process".to_owned()
}
fn default_env_allow() -> Vec<String> {
    DEFAULT_ENV_ALLOW.iter().map(|s| (*s).to_owned()).collect()
}
fn default_output_cap() -> usize {
    DEFAULT_OUTPUT_CAP
}
fn default_progress_interval_ms() -> u64 {
    500
}

impl ProcessExecutor {
    /// Reads an agent's `executor` setting.
    pub fn from_config(config: &serde_json::Value) -> Result<Self, Error> {
        let executor: ProcessExecutor = serde_json::from_value(config.clone())
            .map_err(|e| Error::AgentConfig(format!("process executor: {e}")))?;
        if executor.argv.is_empty() || executor.argv[0].trim().is_empty() {
            return Err(Error::AgentConfig(
                "process executor: argv needs at least a program".to_owned(),
            ));
        }
        Ok(executor)
    }

    fn command(&self, job: &Job) -> Result<Command, String> {
        let workspace = job.workspace();
        std::fs::create_dir_all(&workspace)
            .map_err(|e| format!("cannot create workspace {}: {e}", workspace.display()))?;
        let input = job.input.to_string();
        let fill = |arg: &str| {
            arg.replace("{instruction}", &job.instruction)
                .replace("{workspace}", &workspace.display().to_string())
                .replace("{input}", &input)
                .replace("{task_id}", &job.task_id.0)
                .replace("{attempt}", &job.attempt.0.to_string())
        };
        let mut command = Command::new(fill(&self.argv[0]));
        command.args(self.argv[1..].iter().map(|a| fill(a)));
        command.current_dir(&workspace);
        command.env_clear();
        for name in &self.env_allow {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        command.envs(&self.env);
        command
            .env("MAOS_WORKFLOW_ID", job.workflow_id.0.to_string())
            .env("MAOS_TASK_ID", &job.task_id.0)
            .env("MAOS_ATTEMPT", job.attempt.0.to_string())
            .env("MAOS_WORKSPACE", &workspace)
            .env("MAOS_WORKFLOW_DIR", &job.workflow_dir)
            .env("MAOS_INPUT", &input)
            .env("MAOS_RESULT_FILE", result_file(job));
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        group::record_in_child(&mut command, &group::pid_file(&workspace, job.attempt.0));
        limits::apply(&mut command, self.limits);
        Ok(command)
    }
}

fn result_file(job: &Job) -> std::path::PathBuf {
    job.workspace()
        .join(format!(".maos-result-{}.json", job.attempt.0))
}

impl Executor for ProcessExecutor {
    fn progress_interval(&self) -> Option<std::time::Duration> {
        Some(std::time::Duration::from_millis(self.progress_interval_ms))
    }

    fn run(&self, job: Job, progress: Progress) -> BoxFuture<'static, Outcome> {
        let this = self.clone();
        Box::pin(async move {
            match this.run_attempt(&job, progress).await {
                Ok(outcome) => outcome,
                Err(error) => Outcome::Failed { error },
            }
        })
    }
}

impl ProcessExecutor {
    async fn run_attempt(&self, job: &Job, progress: Progress) -> Result<Outcome, String> {
        let result_path = result_file(job);
        let _ = std::fs::remove_file(&result_path);
        let mut child = self
            .command(job)?
            .spawn()
            .map_err(|e| format!("cannot start {:?}: {e}", self.argv[0]))?;
        // Kills the whole group when the attempt is dropped (timeout,
        // cancel) and after the leader exits (stray children).
        let _group = child.id().map(|leader| {
            group::GroupGuard::new(leader, group::pid_file(&job.workspace(), job.attempt.0))
        });
        let stdout = child
            .stdout
            .take()
            .map(|out| tokio::spawn(output::capture(out, self.output_cap_bytes, Some(progress))));
        let stderr = child
            .stderr
            .take()
            .map(|err| tokio::spawn(output::capture(err, self.output_cap_bytes, None)));
        let status = child
            .wait()
            .await
            .map_err(|e| format!("cannot wait for the process: {e}"))?;
        let stdout = join(stdout).await;
        let stderr = join(stderr).await;
        if !status.success() {
            let how = match status.code() {
                Some(code) => format!("exit status {code}"),
                None => "killed by a signal".to_owned(),
            };
            let tail = output::tail(&stderr, TAIL_IN_EVENT);
            return Ok(Outcome::Failed {
                error: if tail.is_empty() {
                    how
                } else {
                    format!("{how}: {tail}")
                },
            });
        }
        read_result(&result_path, &stdout)
    }
}

async fn join(handle: Option<tokio::task::JoinHandle<Vec<u8>>>) -> Vec<u8> {
    match handle {
        Some(h) => h.await.unwrap_or_default(),
        None => Vec::new(),
    }
}

/// The attempt's outcome after exit 0.
fn read_result(path: &std::path::Path, stdout: &[u8]) -> Result<Outcome, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ResultFile {
        #[serde(default)]
        output: Option<serde_json::Value>,
        #[serde(default)]
        tasks: Vec<maos_domain::workflow::TaskSpec>,
        #[serde(default)]
        usage: maos_domain::workflow::Usage,
        #[serde(default)]
        blocked: Option<String>,
    }
    let stdout_tail = output::tail(stdout, TAIL_IN_EVENT);
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(Outcome::Completed {
            output: serde_json::json!({ "stdout": stdout_tail }),
            usage: Default::default(),
            added_tasks: Vec::new(),
        });
    };
    let result: ResultFile = serde_json::from_str(&text)
        .map_err(|e| format!("result file {} is not valid: {e}", path.display()))?;
    if let Some(reason) = result.blocked {
        return Ok(Outcome::Blocked { reason });
    }
    Ok(Outcome::Completed {
        output: result
            .output
            .unwrap_or_else(|| serde_json::json!({ "stdout": stdout_tail })),
        usage: result.usage,
        added_tasks: result.tasks,
    })
}
