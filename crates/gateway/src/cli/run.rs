//! `maos run FILE`: runs one workflow to its end on an embedded node.

use super::node::{NodeArgs, start};
use maos_actors::{CommandContext, parse_workflow_spec};
use maos_domain::workflow::WorkflowStatus;
use maos_store::EventStore;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The workflow spec (YAML or JSON).
    file: PathBuf,
    #[command(flatten)]
    node: NodeArgs,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.file.display()))?;
    let spec =
        parse_workflow_spec(&text).map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let node = start(&args.node).await?;
    let from = node.store().head_position().await?;
    let submitted = node.submit(spec, CommandContext::default()).await?;
    println!("workflow {} submitted", submitted.workflow_id);
    let progress = tokio::spawn(print_progress(
        node.store().clone(),
        from,
        submitted.workflow_id.stream(),
    ));
    let outcome = node.wait_settled(submitted.workflow_id).await?;
    // The printer stops at the workflow's settling event; give it a moment
    // to get there.
    if tokio::time::timeout(std::time::Duration::from_secs(2), progress)
        .await
        .is_err()
    {
        tracing::debug!("progress lines may be incomplete");
    }
    let tasks = &outcome.state.tasks;
    let done = tasks
        .values()
        .filter(|t| t.status.satisfies_dependents())
        .count();
    println!(
        "workflow {} {}: {done}/{} tasks done",
        submitted.workflow_id,
        outcome.status,
        tasks.len()
    );
    node.stop();
    Ok(match outcome.status {
        WorkflowStatus::Completed => ExitCode::SUCCESS,
        WorkflowStatus::Escalated => ExitCode::from(3),
        _ => ExitCode::FAILURE,
    })
}

/// Prints a line per task step of the workflow as it happens.
async fn print_progress(store: maos_store::Store, from: u64, stream: String) {
    let mut live = store.subscribe(from);
    while let Ok(event) = live.next().await {
        if event.stream != stream {
            continue;
        }
        let task = event.data["task_id"].as_str().unwrap_or_default();
        let attempt = &event.data["attempt"];
        let line = match event.event_type.as_str() {
            "workflows.task.added" => format!(
                "  {:<16} added by {}",
                event.data["task"]["id"].as_str().unwrap_or_default(),
                event.data["added_by"].as_str().unwrap_or_default()
            ),
            "workflows.task.started" => format!("  {task:<16} started (attempt {attempt})"),
            "workflows.task.completed" => format!("  {task:<16} completed"),
            "workflows.task.failed" => format!(
                "  {task:<16} failed: {}",
                event.data["error"].as_str().unwrap_or_default()
            ),
            "workflows.task.timed_out" => format!("  {task:<16} timed out (attempt {attempt})"),
            "workflows.workflow.completed"
            | "workflows.workflow.failed"
            | "workflows.workflow.cancelled"
            | "workflows.workflow.escalated" => return,
            "workflows.task.escalated" => format!(
                "  {task:<16} escalated: {}",
                event.data["reason"].as_str().unwrap_or_default()
            ),
            _ => continue,
        };
        println!("{line}");
    }
}
