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
    announce(service.server.addr);
    shutdown_signal().await?;
    tracing::info!("stopping");
    service.stop().await;
    Ok(())
}

/// One line on standard output says where the server listens (with port
/// 0, the port it was given), for scripts and supervisors that start it;
/// logs go to standard error. A closed standard output is no reason to stop.
fn announce(addr: std::net::SocketAddr) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "maos listening on http://{addr}").and_then(|()| out.flush());
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
