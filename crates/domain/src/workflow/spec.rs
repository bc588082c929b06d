//! Workflow specs (the DAG a user submits) and their validation.
//!
//! Parsing YAML or JSON is the caller's business; this module defines the
//! shape (serde, unknown fields refused) and checks the rules, naming the
//! task and field at fault.

use crate::ids::{Capability, TaskId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Capability whose tasks may return more tasks (PLAN).
pub const PLANNING_CAPABILITY: &str = "planning";
/// Longest task timeout accepted: 7 days.
pub const MAX_TIMEOUT_SECS: u64 = 7 * 24 * 3600;
/// Most retries a task may ask for.
pub const MAX_RETRIES: u32 = 100;
/// Longest back-off between retries: 1 day.
pub const MAX_BACKOFF_MS: u64 = 24 * 3600 * 1000;
/// Most tasks one workflow may hold.
pub const MAX_TASKS: usize = 10_000;
/// Longest task id (letters, digits, `-` and `_`).
pub const MAX_TASK_ID_LEN: usize = 64;
/// The back-off multipliers accepted, in percent.
pub const BACKOFF_MULTIPLIER_PERCENT: std::ops::RangeInclusive<u32> = 100..=1000;

/// What a user submits: a named DAG of tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowSpec {
    pub name: String,
    /// Free-form input handed to every task.
    #[serde(default)]
    pub input: serde_json::Value,
    pub tasks: Vec<TaskSpec>,
}

/// One node of the DAG.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    pub id: TaskId,
    /// The capability an agent must offer to take the task.
    pub capability: Capability,
    /// What to do; handed to the executor (e.g. as a prompt or command).
    pub instruction: String,
    /// Tasks that must be completed (or skipped) before this one starts.
    #[serde(default)]
    pub needs: Vec<TaskId>,
    /// Per-attempt deadline in seconds.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    #[serde(default)]
    pub retries: RetryPolicy,
    #[serde(default)]
    pub on_exhausted: OnExhausted,
}

/// How often and how patiently a failed task is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 = never retry).
    pub max_retries: u32,
    /// Back-off before the first retry.
    pub backoff_initial_ms: u64,
    /// Each further retry waits this many percent of the previous back-off.
    pub backoff_multiplier_percent: u32,
    /// Back-off never exceeds this.
    pub backoff_max_ms: u64,
}

/// What happens when a task has used up its retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnExhausted {
    /// The workflow fails.
    #[default]
    Fail,
    /// The task and workflow wait for a human decision.
    Escalate,
}

fn default_timeout_secs() -> u64 {
    600
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            backoff_initial_ms: 1_000,
            backoff_multiplier_percent: 200,
            backoff_max_ms: 60_000,
        }
    }
}

impl RetryPolicy {
    /// Back-off before retry number `retry` (1-based), in milliseconds.
    pub fn backoff_ms(&self, retry: u32) -> u64 {
        let mut delay = self.backoff_initial_ms;
        for _ in 1..retry {
            delay = delay.saturating_mul(u64::from(self.backoff_multiplier_percent)) / 100;
            if delay >= self.backoff_max_ms {
                break;
            }
        }
        delay.min(self.backoff_max_ms)
    }
}

/// What is wrong with a spec. The first problem found, in a fixed order
/// (workflow fields, then tasks in spec order, then the graph).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("workflow name is empty")]
    EmptyName,
    #[error("workflow has no tasks")]
    Empty,
    #[error("workflow has {count} tasks; at most {MAX_TASKS} are allowed")]
    TooManyTasks { count: usize },
    #[error("task #{index}: id is empty")]
    EmptyTaskId { index: usize },
    #[error("task \"{task}\": id may hold only letters, digits, '-' and '_' (at most 64)")]
    InvalidTaskId { task: TaskId },
    #[error("task id \"{0}\" is used more than once")]
    DuplicateTaskId(TaskId),
    #[error("task \"{task}\": field {field} {reason}")]
    InvalidField {
        task: TaskId,
        field: &'static str,
        reason: String,
    },
    #[error("task \"{task}\" needs unknown task \"{dependency}\"")]
    UnknownDependency { task: TaskId, dependency: TaskId },
    #[error("tasks form a cycle: {}", display_cycle(.0))]
    Cycle(Vec<TaskId>),
}

fn display_cycle(path: &[TaskId]) -> String {
    let names: Vec<&str> = path.iter().map(|t| t.0.as_str()).collect();
    names.join(" -> ")
}

/// Validates a whole spec.
pub fn validate_spec(spec: &WorkflowSpec) -> Result<(), SpecError> {
    if spec.name.trim().is_empty() {
        return Err(SpecError::EmptyName);
    }
    if spec.tasks.is_empty() {
        return Err(SpecError::Empty);
    }
    validate_graph(&[], &spec.tasks)
}

/// Validates tasks added by a planner to a workflow that holds `existing`:
/// each added task is checked like a spec task, may need existing or added
/// tasks, and the combined graph must stay acyclic.
pub fn validate_additions(existing: &[&TaskSpec], added: &[TaskSpec]) -> Result<(), SpecError> {
    if added.is_empty() {
        return Ok(());
    }
    validate_graph(existing, added)
}

fn validate_graph(existing: &[&TaskSpec], new: &[TaskSpec]) -> Result<(), SpecError> {
    let count = existing.len() + new.len();
    if count > MAX_TASKS {
        return Err(SpecError::TooManyTasks { count });
    }
    let mut ids: BTreeSet<&TaskId> = existing.iter().map(|t| &t.id).collect();
    for (index, task) in new.iter().enumerate() {
        validate_task(index, task)?;
        if !ids.insert(&task.id) {
            return Err(SpecError::DuplicateTaskId(task.id.clone()));
        }
    }
    for task in new {
        if let Some(dependency) = task.needs.iter().find(|d| !ids.contains(d)) {
            return Err(SpecError::UnknownDependency {
                task: task.id.clone(),
                dependency: dependency.clone(),
            });
        }
    }
    let all: Vec<&TaskSpec> = existing.iter().copied().chain(new.iter()).collect();
    match find_cycle(&all) {
        Some(cycle) => Err(SpecError::Cycle(cycle)),
        None => Ok(()),
    }
}

fn validate_task(index: usize, task: &TaskSpec) -> Result<(), SpecError> {
    if task.id.0.is_empty() {
        return Err(SpecError::EmptyTaskId { index });
    }
    let id_ok = task.id.0.len() <= MAX_TASK_ID_LEN
        && task
            .id
            .0
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !id_ok {
        return Err(SpecError::InvalidTaskId {
            task: task.id.clone(),
        });
    }
    let field = |field, reason: &str| SpecError::InvalidField {
        task: task.id.clone(),
        field,
        reason: reason.to_owned(),
    };
    if task.capability.0.trim().is_empty() {
        return Err(field("capability", "is empty"));
    }
    if task.instruction.trim().is_empty() {
        return Err(field("instruction", "is empty"));
    }
    if task.timeout_secs == 0 || task.timeout_secs > MAX_TIMEOUT_SECS {
        return Err(field(
            "timeout_secs",
            &format!(
                "must be between 1 and {MAX_TIMEOUT_SECS}, got {}",
                task.timeout_secs
            ),
        ));
    }
    let retries = &task.retries;
    if retries.max_retries > MAX_RETRIES {
        return Err(field(
            "retries.max_retries",
            &format!("must be at most {MAX_RETRIES}, got {}", retries.max_retries),
        ));
    }
    if retries.backoff_max_ms > MAX_BACKOFF_MS {
        return Err(field(
            "retries.backoff_max_ms",
            &format!(
                "must be at most {MAX_BACKOFF_MS}, got {}",
                retries.backoff_max_ms
            ),
        ));
    }
    if retries.backoff_initial_ms > retries.backoff_max_ms {
        return Err(field(
            "retries.backoff_initial_ms",
            &format!(
                "({}) must not exceed retries.backoff_max_ms ({})",
                retries.backoff_initial_ms, retries.backoff_max_ms
            ),
        ));
    }
    if !BACKOFF_MULTIPLIER_PERCENT.contains(&retries.backoff_multiplier_percent) {
        return Err(field(
            "retries.backoff_multiplier_percent",
            &format!(
                "must be between {} and {}, got {}",
                BACKOFF_MULTIPLIER_PERCENT.start(),
                BACKOFF_MULTIPLIER_PERCENT.end(),
                retries.backoff_multiplier_percent
            ),
        ));
    }
    Ok(())
}

/// Depth-first search; returns the first cycle found as a closed path
/// (`a -> b -> a`), starting from the task that comes first in the input.
fn find_cycle(tasks: &[&TaskSpec]) -> Option<Vec<TaskId>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Unvisited,
        OnPath,
        Done,
    }
    let index: BTreeMap<&TaskId, usize> =
        tasks.iter().enumerate().map(|(i, t)| (&t.id, i)).collect();
    let mut marks = vec![Mark::Unvisited; tasks.len()];
    for root in 0..tasks.len() {
        if marks[root] != Mark::Unvisited {
            continue;
        }
        // Explicit stack of (node, next dependency to look at) keeps deep
        // graphs from overflowing the call stack.
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        marks[root] = Mark::OnPath;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let needs = &tasks[node].needs;
            if *next == needs.len() {
                marks[node] = Mark::Done;
                stack.pop();
                continue;
            }
            let dep = index[&needs[*next]];
            *next += 1;
            match marks[dep] {
                Mark::Done => {}
                Mark::Unvisited => {
                    marks[dep] = Mark::OnPath;
                    stack.push((dep, 0));
                }
                Mark::OnPath => {
                    let start = stack.iter().position(|&(n, _)| n == dep).unwrap_or(0);
                    let mut cycle: Vec<TaskId> = stack[start..]
                        .iter()
                        .map(|&(n, _)| tasks[n].id.clone())
                        .collect();
                    cycle.push(tasks[dep].id.clone());
                    return Some(cycle);
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn task(id: &str, needs: &[&str]) -> TaskSpec {
        TaskSpec {
            id: id.into(),
            capability: "backend".into(),
            instruction: format!("do {id}"),
            needs: needs.iter().map(|n| TaskId::from(*n)).collect(),
            timeout_secs: 60,
            retries: RetryPolicy::default(),
            on_exhausted: OnExhausted::Fail,
        }
    }

    fn spec(tasks: Vec<TaskSpec>) -> WorkflowSpec {
        WorkflowSpec {
            name: "demo".into(),
            input: serde_json::Value::Null,
            tasks,
        }
    }

    #[test]
    fn it_accepts_a_valid_dag() {
        let s = spec(vec![
            task("a", &[]),
            task("b", &["a"]),
            task("c", &["a", "b"]),
        ]);
        assert_eq!(validate_spec(&s), Ok(()));
    }

    #[test]
    fn it_names_the_cycle() {
        let s = spec(vec![
            task("a", &["c"]),
            task("b", &["a"]),
            task("c", &["b"]),
            task("d", &[]),
        ]);
        let err = validate_spec(&s).unwrap_err();
        assert_eq!(
            err,
            SpecError::Cycle(vec!["a".into(), "c".into(), "b".into(), "a".into()])
        );
        assert_eq!(err.to_string(), "tasks form a cycle: a -> c -> b -> a");
    }

    #[test]
    fn it_rejects_a_self_dependency_as_a_cycle() {
        let s = spec(vec![task("a", &["a"])]);
        assert_eq!(
            validate_spec(&s),
            Err(SpecError::Cycle(vec!["a".into(), "a".into()]))
        );
    }

    #[test]
    fn it_rejects_unknown_dependencies_and_duplicates() {
        let s = spec(vec![task("a", &[]), task("b", &["zz"])]);
        assert_eq!(
            validate_spec(&s),
            Err(SpecError::UnknownDependency {
                task: "b".into(),
                dependency: "zz".into()
            })
        );
        let s = spec(vec![task("a", &[]), task("a", &[])]);
        assert_eq!(
            validate_spec(&s),
            Err(SpecError::DuplicateTaskId("a".into()))
        );
    }

    #[test]
    fn it_rejects_empty_workflows_and_bad_values() {
        assert_eq!(validate_spec(&spec(vec![])), Err(SpecError::Empty));
        let mut t = task("a", &[]);
        t.timeout_secs = 0;
        let err = validate_spec(&spec(vec![t])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "task \"a\": field timeout_secs must be between 1 and 604800, got 0"
        );
        let mut t = task("a", &[]);
        t.retries.backoff_initial_ms = 10_000;
        t.retries.backoff_max_ms = 5_000;
        assert!(matches!(
            validate_spec(&spec(vec![t])),
            Err(SpecError::InvalidField {
                field: "retries.backoff_initial_ms",
                ..
            })
        ));
        let mut t = task("a", &[]);
        t.retries.max_retries = 1000;
        assert!(matches!(
            validate_spec(&spec(vec![t])),
            Err(SpecError::InvalidField {
                field: "retries.max_retries",
                ..
            })
        ));
        let t = task("a b", &[]);
        assert!(matches!(
            validate_spec(&spec(vec![t])),
            Err(SpecError::InvalidTaskId { .. })
        ));
    }

    #[test]
    fn it_checks_planner_additions_against_the_existing_graph() {
        let a = task("a", &[]);
        let existing = [&a];
        assert_eq!(validate_additions(&existing, &[task("b", &["a"])]), Ok(()));
        assert_eq!(
            validate_additions(&existing, &[task("a", &[])]),
            Err(SpecError::DuplicateTaskId("a".into()))
        );
        assert!(matches!(
            validate_additions(&existing, &[task("b", &["c"]), task("c", &["b"])]),
            Err(SpecError::Cycle(_))
        ));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            max_retries: 5,
            backoff_initial_ms: 1000,
            backoff_multiplier_percent: 200,
            backoff_max_ms: 5000,
        };
        let delays: Vec<u64> = (1..=5).map(|r| p.backoff_ms(r)).collect();
        assert_eq!(delays, vec![1000, 2000, 4000, 5000, 5000]);
    }

    #[test]
    fn specs_parse_from_json_with_defaults_and_refuse_unknown_fields() {
        let s: WorkflowSpec = serde_json::from_str(
            r#"{"name":"x","tasks":[{"id":"a","capability":"qa","instruction":"test"}]}"#,
        )
        .unwrap();
        assert_eq!(s.tasks[0].timeout_secs, 600);
        assert_eq!(s.tasks[0].retries, RetryPolicy::default());
        let err = serde_json::from_str::<WorkflowSpec>(
            r#"{"name":"x","tasks":[{"id":"a","capability":"qa","instruction":"t","timout":3}]}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `timout`"), "{err}");
    }
}
