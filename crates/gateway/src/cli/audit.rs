//! `maos audit query|tree|export`.

use super::Ctx;
use super::output::{self, cell};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Audit log entries matching every filter given, in log order.
    Query(Filters),
    /// An event's causes (back to the command that started it) and effects.
    Tree { event_id: String },
    /// Every matching event, whole, as JSON Lines.
    Export {
        #[command(flatten)]
        filters: Filters,
        /// Write here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct Filters {
    /// A stream: `workflow-<id>`, `agent-<id>`.
    #[arg(long)]
    stream: Option<String>,
    /// A type pattern: `workflows.task.*`, `agents.>`.
    #[arg(long)]
    types: Option<String>,
    #[arg(long)]
    correlation_id: Option<String>,
    /// Events caused by this subject's commands.
    #[arg(long)]
    user_id: Option<String>,
    /// Recorded at or after (RFC 3339).
    #[arg(long)]
    from: Option<String>,
    /// Recorded before (RFC 3339).
    #[arg(long)]
    to: Option<String>,
    /// After this position.
    #[arg(long)]
    after: Option<u64>,
    #[arg(long, default_value_t = 100)]
    limit: usize,
}

impl Filters {
    fn query(&self) -> String {
        output::query(&[
            ("stream", self.stream.clone()),
            ("types", self.types.clone()),
            ("correlation_id", self.correlation_id.clone()),
            ("user_id", self.user_id.clone()),
            ("from", self.from.clone()),
            ("to", self.to.clone()),
            ("after", self.after.map(|a| a.to_string())),
            ("limit", Some(self.limit.to_string())),
        ])
    }
}

pub async fn run(ctx: &Ctx, command: Command) -> anyhow::Result<()> {
    let client = ctx.reader().await?;
    let result = match command {
        Command::Query(filters) => query(ctx, &client, &filters).await,
        Command::Tree { event_id } => tree(ctx, &client, &event_id).await,
        Command::Export { filters, out } => export(&client, &filters, out).await,
    };
    client.close().await;
    result
}

async fn query(ctx: &Ctx, client: &crate::client::Client, f: &Filters) -> anyhow::Result<()> {
    let answer = client.get(&format!("/api/v1/audit{}", f.query())).await?;
    if ctx.json {
        output::json(&answer["data"]);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = output::items(&answer["data"]).iter().map(row).collect();
    print!(
        "{}",
        output::table(
            &["position", "recorded", "type", "stream", "user", "id"],
            &rows
        )
    );
    if let Some(next) = answer["meta"]["next"].as_str() {
        println!("(more: --after {next})");
    }
    Ok(())
}

fn row(e: &serde_json::Value) -> Vec<String> {
    vec![
        cell(&e["position"]),
        cell(&e["recorded_at"]),
        cell(&e["event_type"]),
        cell(&e["stream"]),
        cell(&e["user_id"]),
        cell(&e["id"]),
    ]
}

async fn tree(ctx: &Ctx, client: &crate::client::Client, id: &str) -> anyhow::Result<()> {
    let answer = client
        .get(&format!("/api/v1/audit/events/{id}/tree"))
        .await?;
    let t = &answer["data"];
    if ctx.json {
        output::json(t);
        return Ok(());
    }
    let line = |depth: i64, e: &serde_json::Value| {
        let indent = "  ".repeat(usize::try_from(depth.max(0)).unwrap_or(0));
        println!(
            "{indent}{} {} ({}, {})",
            cell(&e["position"]),
            cell(&e["event_type"]),
            cell(&e["stream"]),
            cell(&e["user_id"])
        );
    };
    println!("caused by:");
    for c in output::items(&t["causes"]) {
        line(1, c);
    }
    println!("event:");
    line(1, &t["event"]);
    println!("effects:");
    for e in output::items(&t["effects"]) {
        line(1 + e["depth"].as_i64().unwrap_or(1), &e["entry"]);
    }
    Ok(())
}

async fn export(
    client: &crate::client::Client,
    f: &Filters,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let body = client
        .get_raw(&format!("/api/v1/audit/export{}", f.query()))
        .await?;
    match out {
        Some(path) => std::fs::write(&path, &body)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
        None => std::io::stdout().lock().write_all(&body)?,
    }
    Ok(())
}
