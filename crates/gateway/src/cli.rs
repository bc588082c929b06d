//! The `maos` commands and their shared options.

mod events;
mod node;
mod relay;
mod run;
mod up;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "maos",
    version,
    about = "maos: durable, auditable orchestration of AI coding agents"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a node: resume live workflows and agents from the store, register
    /// agents from a file, and work until interrupted.
    Up(up::Args),
    /// Run one workflow to its end on an embedded node; the exit status
    /// tells the outcome (0 completed, 1 failed or cancelled, 3 escalated).
    Run(run::Args),
    /// Relay every committed event to NATS JetStream and/or RabbitMQ.
    Relay(relay::Args),
    /// Follow events.
    #[command(subcommand)]
    Events(events::Command),
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<std::process::ExitCode> {
        let ok = std::process::ExitCode::SUCCESS;
        match self.command {
            Command::Up(args) => up::run(args).await.map(|()| ok),
            Command::Run(args) => run::run(args).await,
            Command::Relay(args) => relay::run(args).await.map(|()| ok),
            Command::Events(command) => events::run(command).await.map(|()| ok),
        }
    }
}

/// Logs to stderr; `RUST_LOG` filters (default `info`, broker clients at
/// `warn`), `MAOS_LOG_FORMAT`
/// is reserved for the server.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,async_nats=warn,lapin=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Opens the store `url` names.
pub async fn open_store(url: &str) -> anyhow::Result<maos_store::Store> {
    Ok(maos_store::Store::open(url).await?)
}

/// The default store: the embedded SQLite file under `.maos/`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://.maos/maos.db";
