//! `maos up`: a node that works until interrupted.

use super::node::{NodeArgs, start};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    node: NodeArgs,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let node = start(&args.node).await?;
    tracing::info!(
        backend = node.store().backend(),
        live_workflows = node.live_workflows().len(),
        "maos node running; Ctrl-C to stop"
    );
    shutdown_signal().await?;
    tracing::info!("stopping");
    node.stop();
    Ok(())
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    Ok(())
}
