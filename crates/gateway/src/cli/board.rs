//! `maos board [--watch]`: the task board.

use super::Ctx;
use super::output::{self, cell, duration, short};
use serde_json::Value;
use std::io::{IsTerminal, Write};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this workflow.
    #[arg(long)]
    workflow: Option<String>,
    /// Only tasks in this status (pending, ready, running, completed, ...).
    #[arg(long)]
    status: Option<String>,
    /// Only tasks of this agent (its id).
    #[arg(long)]
    assignee: Option<String>,
    /// Only tasks needing this capability.
    #[arg(long)]
    capability: Option<String>,
    /// Most tasks shown.
    #[arg(long, default_value_t = 100)]
    limit: usize,
    /// Redraw whenever something happens, until interrupted.
    #[arg(long)]
    watch: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let client = ctx.reader().await?;
    let path = format!(
        "/api/v1/board{}",
        output::query(&[
            ("workflow_id", args.workflow.clone()),
            ("status", args.status.clone()),
            ("assignee", args.assignee.clone()),
            ("capability", args.capability.clone()),
            ("limit", Some(args.limit.to_string())),
        ])
    );
    let answer = client.get(&path).await?;
    show(ctx, &answer["data"]);
    if args.watch {
        let live = "/api/v1/events/live?types=workflows.%3E";
        let mut last = std::time::Instant::now();
        let mut pending = false;
        // Redraw at most a few times a second; the board follows the log.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        let follow = client.follow(awc::http::Method::GET, live, move |_| tx.send(()).is_ok());
        let redraw = async {
            loop {
                let tick = tokio::time::sleep(std::time::Duration::from_millis(250));
                tokio::select! {
                    got = rx.recv() => { if got.is_none() { break; } pending = true; }
                    () = tick => {}
                }
                if pending && last.elapsed() >= std::time::Duration::from_millis(250) {
                    if let Ok(answer) = client.get(&path).await {
                        show(ctx, &answer["data"]);
                    }
                    pending = false;
                    last = std::time::Instant::now();
                }
            }
            Ok::<(), anyhow::Error>(())
        };
        tokio::select! {
            r = follow => r?,
            r = redraw => r?,
            r = super::up::shutdown_signal() => r?,
        }
    }
    client.close().await;
    Ok(())
}

fn show(ctx: &Ctx, tasks: &Value) {
    if ctx.json {
        output::json(tasks);
        return;
    }
    let rows: Vec<Vec<String>> = output::items(tasks)
        .iter()
        .map(|t| {
            vec![
                short(&cell(&t["workflow_id"])),
                cell(&t["task_id"]),
                cell(&t["status"]),
                cell(&t["capability"]),
                short(&cell(&t["assignee"])),
                cell(&t["attempt"]),
                duration(&t["duration_ms"]),
                cell(&t["last_error"]),
            ]
        })
        .collect();
    let mut out = std::io::stdout().lock();
    if std::io::stdout().is_terminal() {
        let _ = write!(out, "\x1b[H\x1b[2J");
    }
    let _ = write!(
        out,
        "{}",
        output::table(
            &[
                "workflow",
                "task",
                "status",
                "capability",
                "agent",
                "attempt",
                "duration",
                "last error"
            ],
            &rows
        )
    );
    let _ = out.flush();
}
