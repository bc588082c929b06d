//! `maos run FILE`: runs one workflow to its end on an embedded node.

use super::node::{NodeArgs, start};
use maos_actors::{CommandContext, parse_workflow_spec};
use maos_domain::workflow::WorkflowStatus;
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
    let submitted = node.submit(spec, CommandContext::default()).await?;
    println!("workflow {} submitted", submitted.workflow_id);
    let outcome = node.wait_settled(submitted.workflow_id).await?;
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
