//! `maos workflow list|show|cancel|input|fork` and `maos state`.

use super::Ctx;
use super::output::{self, cell, duration};
use awc::http::Method;
use serde_json::{Value, json};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Workflows, newest first.
    List {
        /// submitted, running, completed, failed or cancelled.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// A workflow's summary and tasks.
    Show { id: String },
    /// Cancel a workflow; its running processes are killed.
    Cancel {
        id: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Answer an escalated task.
    Input {
        id: String,
        task: String,
        #[arg(value_enum)]
        decision: Decision,
        /// With `override`: the task's output, as JSON.
        #[arg(long)]
        output: Option<String>,
    },
    /// Start a new workflow from a checkpoint of this one: tasks completed
    /// by then keep their outputs; the rest run again.
    Fork {
        id: String,
        #[command(flatten)]
        point: Point,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Decision {
    Retry,
    Skip,
    Override,
    Cancel,
}

/// A point in a workflow's history.
#[derive(Debug, Clone, clap::Args)]
#[group(required = true, multiple = false)]
pub struct Point {
    /// After the workflow's event with this version.
    #[arg(long)]
    version: Option<u64>,
    /// A global log position (a number) or a time (RFC 3339).
    #[arg(long)]
    at: Option<String>,
}

impl Point {
    /// `(name, value)` for the API.
    fn pair(&self) -> anyhow::Result<(&'static str, Value)> {
        if let Some(v) = self.version {
            return Ok(("version", json!(v)));
        }
        let at = self.at.as_deref().unwrap_or_default();
        if let Ok(position) = at.parse::<u64>() {
            return Ok(("position", json!(position)));
        }
        chrono::DateTime::parse_from_rfc3339(at).map_err(|_| {
            anyhow::anyhow!("--at must be a log position or an RFC 3339 time, not {at:?}")
        })?;
        Ok(("at", json!(at)))
    }
}

/// `maos state WORKFLOW --at TIME|POSITION`
#[derive(Debug, clap::Args)]
pub struct StateArgs {
    workflow: String,
    #[command(flatten)]
    point: Point,
}

pub async fn run(ctx: &Ctx, command: Command) -> anyhow::Result<()> {
    match command {
        Command::List { status, limit } => {
            let client = ctx.reader().await?;
            let path = format!(
                "/api/v1/workflows{}",
                output::query(&[("status", status), ("limit", Some(limit.to_string()))])
            );
            let answer = client.get(&path).await?;
            client.close().await;
            if ctx.json {
                output::json(&answer["data"]);
                return Ok(());
            }
            let rows: Vec<Vec<String>> = output::items(&answer["data"])
                .iter()
                .map(|w| {
                    let tasks = w["tasks"]
                        .as_object()
                        .map(|t| {
                            t.iter()
                                .map(|(k, v)| format!("{k}:{v}"))
                                .collect::<Vec<_>>()
                                .join(" ")
                        })
                        .unwrap_or_default();
                    vec![
                        cell(&w["workflow_id"]),
                        cell(&w["name"]),
                        cell(&w["status"]),
                        cell(&w["submitted_at"]),
                        duration(&w["duration_ms"]),
                        tasks,
                    ]
                })
                .collect();
            print!(
                "{}",
                output::table(
                    &["id", "name", "status", "submitted", "duration", "tasks"],
                    &rows
                )
            );
        }
        Command::Show { id } => {
            let client = ctx.reader().await?;
            let answer = client.get(&format!("/api/v1/workflows/{id}")).await?;
            client.close().await;
            if ctx.json {
                output::json(&answer["data"]);
                return Ok(());
            }
            show(&answer["data"]);
        }
        Command::Cancel { id, reason } => {
            let body = json!({"reason": reason});
            let path = format!("/api/v1/workflows/{id}/actions/cancel");
            done(ctx, Method::POST, &path, Some(body), "cancelled").await?;
        }
        Command::Input {
            id,
            task,
            decision,
            output,
        } => {
            let body = match (decision, output) {
                (Decision::Override, Some(out)) => {
                    let output: Value = serde_json::from_str(&out)
                        .map_err(|e| anyhow::anyhow!("--output is not JSON: {e}"))?;
                    json!({"kind": "override", "output": output})
                }
                (Decision::Override, None) => anyhow::bail!("override needs --output JSON"),
                (_, Some(_)) => anyhow::bail!("--output goes with override only"),
                (Decision::Retry, None) => json!({"kind": "retry"}),
                (Decision::Skip, None) => json!({"kind": "skip"}),
                (Decision::Cancel, None) => json!({"kind": "cancel"}),
            };
            let path = format!("/api/v1/workflows/{id}/tasks/{task}/actions/resolve");
            done(ctx, Method::POST, &path, Some(body), "answered").await?;
        }
        Command::Fork { id, point } => {
            let (name, value) = point.pair()?;
            let path = format!("/api/v1/workflows/{id}/actions/fork");
            let client = ctx.commander().await?;
            let answer = client
                .send_json(Method::POST, &path, Some(&json!({name: value})))
                .await?;
            client.close().await;
            if ctx.json {
                output::json(&answer["data"]);
            } else {
                println!(
                    "workflow {} forked from {id}",
                    cell(&answer["data"]["workflow_id"])
                );
            }
        }
    }
    Ok(())
}

/// Sends a command and prints its outcome.
pub async fn done(
    ctx: &Ctx,
    method: Method,
    path: &str,
    body: Option<Value>,
    what: &str,
) -> anyhow::Result<()> {
    let client = ctx.commander().await?;
    let answer = client.send_json(method, path, body.as_ref()).await;
    client.close().await;
    let answer = answer?;
    if ctx.json {
        output::json(&answer["data"]);
    } else {
        println!(
            "{} {what} (version {})",
            cell(&answer["data"]["id"]),
            cell(&answer["data"]["version"])
        );
    }
    Ok(())
}

fn show(detail: &Value) {
    let state = &detail["state"];
    println!("workflow {} {}", cell(&state["id"]), cell(&state["name"]));
    println!("  status:    {}", cell(&state["status"]));
    println!("  version:   {}", cell(&state["version"]));
    println!("  submitted: {}", cell(&state["submitted_at"]));
    println!("  finished:  {}", cell(&state["finished_at"]));
    if let Some(c) = detail["summary"]["correlation_id"].as_str() {
        println!("  correlation: {c}");
    }
    print!("{}", output::task_table(state, false));
}

pub async fn state(ctx: &Ctx, args: StateArgs) -> anyhow::Result<()> {
    let (name, value) = args.point.pair()?;
    let value = match value {
        Value::String(s) => s,
        other => other.to_string(),
    };
    let client = ctx.reader().await?;
    let answer = client
        .get(&format!(
            "/api/v1/workflows/{}/state{}",
            args.workflow,
            output::query(&[(name, Some(value))])
        ))
        .await;
    client.close().await;
    let answer = answer?;
    if ctx.json {
        output::json(&answer["data"]);
    } else {
        show(&json!({"state": answer["data"]}));
    }
    Ok(())
}
