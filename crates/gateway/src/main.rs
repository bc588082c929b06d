//! `maos`: the server and the command line (see `maos_gateway::cli`).

use clap::Parser;
use maos_gateway::cli;

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
