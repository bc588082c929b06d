//! `maos`: the command line. Each subcommand lives in `cli/`.

mod cli;
mod server;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    cli::init_logging();
    // The actor system: actors on this thread, I/O and executors on a
    // multi-threaded tokio runtime.
    match maos_actors::run(cli.run()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("maos: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
