//! `maos-bench`: benchmarks that print one JSON object each. Every run
//! measures the machine's flush rate F first and last (these machines swing
//! between ~0.2 ms and ~4 ms per flush), so figures can be compared across
//! runs as ratios to F.

mod flush;
mod stats;
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
}

/// Which event store backend to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    Sqlite,
    Postgres,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = match cli.command {
        Command::Store(options) => runtime.block_on(store_bench::run(options))?,
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
