//! `maos`: the server and the command line (see `maos_gateway::cli`).

use clap::Parser;
use maos_gateway::cli;

/// jemalloc: the read side's replay frees a batch's many small rows while
/// the next batch is made on another thread, which glibc's allocator
/// serves slowly (see BENCHMARKS.md); and its size classes carry no
/// per-allocation header, which an idle agent's many small parts feel.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let settings = match cli.settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("maos: {e:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    cli::init_logging(settings.log_format);
    // The actor system: actors on this thread, I/O and executors on a
    // multi-threaded tokio runtime.
    match maos_actors::run(cli.run(settings)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("maos: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
