//! The `maos` commands. Each subcommand lives in `cli/`; every command but
//! `up`, `relay` and broker tails talks to a server over HTTP (starting an
//! embedded one in-process when none answers).

mod agent;
mod audit;
mod board;
mod events;
mod output;
mod projections;
mod relay;
mod run;
mod token;
mod up;
mod workflow;

use crate::client::Client;
use crate::config::{GlobalArgs, LogFormat, Settings};
use crate::service::Mode;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "maos",
    version,
    about = "maos: durable, auditable orchestration of AI coding agents",
    after_help = "Settings: flags, then MAOS_* environment variables, then maos.toml, then defaults."
)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    /// Print results as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server: the node (resuming live workflows and agents), the
    /// projectors and the HTTP API, until interrupted.
    Up,
    /// Submit a workflow and follow it to its end; the exit status tells
    /// the outcome (0 completed, 1 failed or cancelled, 3 escalated).
    Run(run::Args),
    /// Workflows: list, show, cancel, answer an escalation, fork.
    #[command(subcommand)]
    Workflow(workflow::Command),
    /// Agents: list, register, retire.
    #[command(subcommand)]
    Agent(agent::Command),
    /// The task board.
    Board(board::Args),
    /// The audit log: query, causation tree, export.
    #[command(subcommand)]
    Audit(audit::Command),
    /// A workflow's state as of a time or a position in the log.
    State(workflow::StateArgs),
    /// Follow events: from the server (Server-Sent Events), or from NATS or
    /// RabbitMQ.
    #[command(subcommand)]
    Events(events::Command),
    /// Read models: status, rebuild.
    #[command(subcommand)]
    Projections(projections::Command),
    /// API tokens.
    #[command(subcommand)]
    Token(token::Command),
    /// Print the OpenAPI document of the HTTP API.
    Openapi,
    /// Relay every committed event to NATS JetStream and/or RabbitMQ.
    Relay(relay::Args),
}

/// What a command gets: resolved settings and output preferences.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub settings: Settings,
    pub url_explicit: bool,
    /// Run the server in this process without looking for one.
    pub embedded: bool,
    pub json: bool,
}

impl Ctx {
    /// A client for commands that only read.
    pub async fn reader(&self) -> anyhow::Result<Client> {
        Client::connect(self, Mode::QueriesOnly).await
    }

    /// A client for commands that change things (an embedded server runs
    /// the node).
    pub async fn commander(&self) -> anyhow::Result<Client> {
        Client::connect(self, Mode::Full).await
    }
}

impl Cli {
    pub fn settings(&self) -> anyhow::Result<Settings> {
        Settings::resolve(&self.global)
    }

    pub async fn run(self, settings: Settings) -> anyhow::Result<std::process::ExitCode> {
        let ok = std::process::ExitCode::SUCCESS;
        let ctx = Ctx {
            settings,
            url_explicit: self.global.url.is_some(),
            embedded: self.global.embedded,
            json: self.json,
        };
        match self.command {
            Command::Up => up::run(&ctx).await.map(|()| ok),
            Command::Run(args) => run::run(&ctx, args).await,
            Command::Workflow(c) => workflow::run(&ctx, c).await.map(|()| ok),
            Command::Agent(c) => agent::run(&ctx, c).await.map(|()| ok),
            Command::Board(args) => board::run(&ctx, args).await.map(|()| ok),
            Command::Audit(c) => audit::run(&ctx, c).await.map(|()| ok),
            Command::State(args) => workflow::state(&ctx, args).await.map(|()| ok),
            Command::Events(c) => events::run(&ctx, c).await.map(|()| ok),
            Command::Projections(c) => projections::run(&ctx, c).await.map(|()| ok),
            Command::Token(c) => token::run(&ctx, c).await.map(|()| ok),
            Command::Openapi => {
                println!("{:#}", crate::server::openapi_document());
                Ok(ok)
            }
            Command::Relay(args) => relay::run(&ctx, args).await.map(|()| ok),
        }
    }
}

/// Logs to stderr; `RUST_LOG` filters (default `info`, broker clients at
/// `warn`); `MAOS_LOG_FORMAT=json` writes JSON lines.
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,async_nats=warn,lapin=warn,actix_server=warn")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Pretty => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
    };
}
