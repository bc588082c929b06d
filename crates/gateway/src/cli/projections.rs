//! `maos projections status|rebuild NAME`.

use super::Ctx;
use super::output::{self, cell};
use std::io::{IsTerminal, Write};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Each projector's state, checkpoint and lag.
    Status,
    /// Reset a read model (`audit`, `workflow_board`, or `all` for both in
    /// one pass) and replay the whole log into it, with a progress bar.
    Rebuild { name: String },
}

pub async fn run(ctx: &Ctx, command: Command) -> anyhow::Result<()> {
    let client = ctx.reader().await?;
    let result = match command {
        Command::Status => status(ctx, &client).await,
        Command::Rebuild { name } => rebuild(ctx, &client, &name).await,
    };
    client.close().await;
    result
}

async fn status(ctx: &Ctx, client: &crate::client::Client) -> anyhow::Result<()> {
    let answer = client.get("/api/v1/projections").await?;
    if ctx.json {
        output::json(&answer["data"]);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = output::items(&answer["data"])
        .iter()
        .map(|p| {
            vec![
                cell(&p["name"]),
                cell(&p["state"]),
                cell(&p["checkpoint"]),
                cell(&p["lag"]),
                cell(&p["error"]),
            ]
        })
        .collect();
    print!(
        "{}",
        output::table(&["name", "state", "checkpoint", "lag", "error"], &rows)
    );
    Ok(())
}

async fn rebuild(ctx: &Ctx, client: &crate::client::Client, name: &str) -> anyhow::Result<()> {
    let tty = std::io::stderr().is_terminal();
    let mut outcome: Option<Result<serde_json::Value, String>> = None;
    client
        .follow(
            awc::http::Method::POST,
            &format!("/api/v1/projections/{}/rebuild", output::encode(name)),
            |event| {
                let data: serde_json::Value = serde_json::from_str(&event.data).unwrap_or_default();
                match event.event.as_str() {
                    "progress" => {
                        bar(name, &data, tty);
                        true
                    }
                    "done" => {
                        outcome = Some(Ok(data));
                        false
                    }
                    "error" => {
                        outcome = Some(Err(cell(&data["message"])));
                        false
                    }
                    _ => true,
                }
            },
        )
        .await?;
    if tty {
        eprintln!();
    }
    match outcome {
        Some(Ok(done)) => {
            if ctx.json {
                output::json(&done);
            } else {
                println!(
                    "{name} rebuilt: {} events in {:.2}s",
                    cell(&done["events"]),
                    done["seconds"].as_f64().unwrap_or(0.0)
                );
            }
            Ok(())
        }
        Some(Err(message)) => anyhow::bail!("rebuild of {name} failed: {message}"),
        None => anyhow::bail!("the server stopped answering before the rebuild of {name} ended"),
    }
}

/// `[#####.....] 50% 500/1000`, redrawn in place on a terminal.
fn bar(name: &str, progress: &serde_json::Value, tty: bool) {
    let done = progress["done"].as_u64().unwrap_or(0);
    let total = progress["total"].as_u64().unwrap_or(0).max(1);
    let percent = (done * 100 / total).min(100);
    let filled = usize::try_from(percent / 4).unwrap_or(25);
    let line = format!(
        "{name} [{}{}] {percent:>3}% {done}/{total}",
        "#".repeat(filled),
        ".".repeat(25 - filled)
    );
    let mut err = std::io::stderr().lock();
    if tty {
        let _ = write!(err, "\r{line}");
    } else {
        let _ = writeln!(err, "{line}");
    }
    let _ = err.flush();
}
