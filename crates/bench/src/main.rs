//! `maos-bench`: benchmarks that print one JSON object each. Every run
//! measures the machine's flush rate F first and last (these machines swing
//! between ~0.2 ms and ~4 ms per flush), so figures can be compared across
//! runs as ratios to F.

mod api_bench;
mod flush;
mod memory;
mod orchestrate_bench;
mod rebuild_bench;
mod relay_bench;
mod stats;
mod steal;
mod store_bench;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "maos-bench",
    about = "maos benchmarks (one JSON object per run on stdout)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Event store: durable appends (single, 64 concurrent, 100-event
    /// batches), global-log reads, append latency.
    Store(store_bench::Options),
    /// Relays: events/s to NATS JetStream and to RabbitMQ (with confirms),
    /// and the lag from commit to a subscriber while appends go on.
    Relay(relay_bench::Options),
    /// Read side: the log folded in memory, every read model rebuilt with
    /// its writes, state as of a point of a 10,000-event stream.
    Rebuild(rebuild_bench::Options),
    /// Orchestration end to end with the instant executor: tasks/minute,
    /// command and dispatch latency, memory per live agent actor.
    Orchestrate(orchestrate_bench::Options),
    /// HTTP API on the embedded store: submits/s at peak, submit p99 at
    /// half of peak, board queries/s and their p99.
    Api(api_bench::Options),
    /// (Internal) resumes a node on a store of many agents and prints the
    /// memory its agent actors take. Started by `orchestrate`.
    #[command(hide = true)]
    AgentMemory(orchestrate_bench::MemoryOptions),
}

/// Which event store backend to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The allocator the `maos` binary uses (see its `main.rs`), so figures
/// hold for it; the memory measurement reads its statistics.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Warnings (e.g. a relay retrying) to stderr; RUST_LOG overrides.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let report = match cli.command {
        Command::Store(options) => on_tokio(store_bench::run(options))?,
        Command::Relay(options) => on_tokio(relay_bench::run(options))?,
        Command::Rebuild(options) => on_tokio(rebuild_bench::run(options))?,
        // The orchestration benchmarks run inside the actor system.
        Command::Orchestrate(options) => maos_actors::run(orchestrate_bench::run(options))?,
        Command::Api(options) => maos_actors::run(api_bench::run(options))?,
        Command::AgentMemory(options) => {
            maos_actors::run(orchestrate_bench::agent_memory(options))?
        }
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

fn on_tokio<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("cannot build the tokio runtime")
        .block_on(future)
}
