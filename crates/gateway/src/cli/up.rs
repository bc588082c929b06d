//! `maos up`: the server, until interrupted.

use super::Ctx;
use crate::service::{Mode, Service};

pub async fn run(ctx: &Ctx) -> anyhow::Result<()> {
    let settings = &ctx.settings;
    let service = Service::start(settings, Mode::Full, settings.http_addr).await?;
    tracing::info!(
        addr = %service.server.addr,
        backend = service.store.backend(),
        live_workflows = service.node.as_ref().map_or(0, |n| n.live_workflows().len()),
        admin_token = %settings.data_dir.join(crate::server::ADMIN_TOKEN_FILE).display(),
        "maos is up; Ctrl-C to stop"
    );
    shutdown_signal().await?;
    tracing::info!("stopping");
    service.stop().await;
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
