//! `maos run FILE [--watch]`: submits a workflow and follows it to its end.
//! With no server running, an embedded one runs in this process for as
//! long as the workflow does.

use super::Ctx;
use super::output::{self, cell};
use serde_json::{Value, json};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The workflow spec (YAML or JSON).
    file: PathBuf,
    /// Show a live task board until the workflow ends (instead of a line
    /// per step).
    #[arg(long)]
    watch: bool,
}

/// Event types after which a workflow waits for nobody but a human, or for
/// nothing at all.
const SETTLED: &[&str] = &[
    "workflows.workflow.completed",
    "workflows.workflow.failed",
    "workflows.workflow.cancelled",
    "workflows.workflow.escalated",
];

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.file.display()))?;
    // Checked here first so a bad spec is one line naming task and field.
    maos_actors::parse_workflow_spec(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let client = ctx.commander().await?;
    if let (Some(path), false) = (&ctx.settings.agents, client.is_embedded()) {
        for agent in crate::service::read_agents(path)?.agents {
            client
                .send_json(
                    awc::http::Method::POST,
                    "/api/v1/agents",
                    Some(&json!(agent)),
                )
                .await?;
        }
    }
    let submitted = client.send_text("/api/v1/workflows", text, true).await?;
    let id = cell(&submitted["data"]["workflow_id"]);
    let correlation = cell(&submitted["data"]["correlation_id"]);
    if !ctx.json {
        println!("workflow {id} submitted");
    }
    let live = format!("/api/v1/workflows/{id}/live");
    let show_path = format!("/api/v1/workflows/{id}");
    let mut settled = false;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let follow = client.follow(awc::http::Method::GET, &live, |event| {
        let Ok(envelope) = serde_json::from_str::<Value>(&event.data) else {
            return true;
        };
        let done = SETTLED.contains(&event.event.as_str());
        let _ = tx.send(envelope);
        !done
    });
    let watch = args.watch && !ctx.json;
    let mut last_board = String::new();
    let printer = async {
        while let Some(event) = rx.recv().await {
            if SETTLED.contains(&event["type"].as_str().unwrap_or_default()) {
                settled = true;
            }
            if watch {
                if let Ok(detail) = client.get(&show_path).await {
                    let board = render_board(&detail["data"]["state"]);
                    if board != last_board {
                        show_board(&board);
                        last_board = board;
                    }
                }
            } else if !ctx.json
                && let Some(line) = step_line(&event)
            {
                println!("{line}");
            }
            if settled {
                break;
            }
        }
    };
    let (followed, ()) = tokio::join!(follow, printer);
    followed?;
    let detail = client.get(&show_path).await?;
    let state = &detail["data"]["state"];
    let status = state["status"].as_str().unwrap_or("unknown").to_owned();
    if ctx.json {
        output::json(&detail["data"]);
    } else {
        let tasks = state["tasks"].as_object().map(|t| t.len()).unwrap_or(0);
        let done = state["tasks"]
            .as_object()
            .map(|t| {
                t.values()
                    .filter(|t| matches!(t["status"].as_str(), Some("completed" | "skipped")))
                    .count()
            })
            .unwrap_or(0);
        println!("workflow {id} {status}: {done}/{tasks} tasks done");
        println!();
        println!("Look next:");
        println!("  maos board --workflow {id}");
        println!("  maos workflow show {id}");
        println!("  maos audit query --correlation-id {correlation}");
        if status == "escalated" {
            println!("  maos workflow input {id} TASK retry|skip|cancel|override --output JSON");
        }
    }
    client.close().await;
    Ok(match status.as_str() {
        "completed" => ExitCode::SUCCESS,
        "escalated" => ExitCode::from(3),
        _ => ExitCode::FAILURE,
    })
}

/// A line for a task step, or `None` for events not worth a line.
fn step_line(event: &Value) -> Option<String> {
    let data = &event["data"];
    let task = data["task_id"].as_str().unwrap_or_default();
    let attempt = &data["attempt"];
    Some(match event["type"].as_str()? {
        "workflows.task.added" => format!(
            "  {:<16} added by {}",
            data["task"]["id"].as_str().unwrap_or_default(),
            data["added_by"].as_str().unwrap_or_default()
        ),
        "workflows.task.started" => format!("  {task:<16} started (attempt {attempt})"),
        "workflows.task.completed" => format!("  {task:<16} completed"),
        "workflows.task.failed" => format!(
            "  {task:<16} failed: {}",
            data["error"].as_str().unwrap_or_default()
        ),
        "workflows.task.timed_out" => format!("  {task:<16} timed out (attempt {attempt})"),
        "workflows.task.escalated" => format!(
            "  {task:<16} escalated: {}",
            data["reason"].as_str().unwrap_or_default()
        ),
        _ => return None,
    })
}

/// The board of one workflow, from its state.
fn render_board(state: &Value) -> String {
    format!(
        "{} ({})\n{}",
        cell(&state["name"]),
        cell(&state["status"]),
        output::task_table(state, true)
    )
}

/// Draws the board: in place on a terminal, else appended.
fn show_board(board: &str) {
    let mut out = std::io::stdout().lock();
    if std::io::stdout().is_terminal() {
        let _ = write!(out, "\x1b[H\x1b[2J");
    }
    let _ = write!(out, "{board}");
    let _ = out.flush();
}
