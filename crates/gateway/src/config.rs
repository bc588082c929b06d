//! Settings: command-line flags, then `MAOS_*` environment variables, then
//! `maos.toml`, then defaults (the first that gives a value wins).
//!
//! `maos.toml` is read from `--config`/`MAOS_CONFIG`, else `./maos.toml` if
//! it exists. Its keys are the long flag names with `_`:
//!
//! ```toml
//! database_url = "postgres://127.0.0.1/maos"
//! http_addr = "127.0.0.1:7700"
//! data_dir = ".maos"
//! agents = "examples/agents.yaml"
//! workspaces = ".maos/workspaces"
//! log_format = "json"
//! url = "http://127.0.0.1:7700"
//! ```

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Flags every command takes (each also from its `MAOS_*` variable).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GlobalArgs {
    /// Settings file (default: ./maos.toml if present).
    #[arg(long, env = "MAOS_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// The event store: `sqlite://PATH` (embedded; default
    /// `sqlite://<data-dir>/maos.db`) or `postgres://…`.
    #[arg(long, env = "MAOS_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Where the embedded store, the admin token and workspaces live
    /// (default `.maos`).
    #[arg(long, env = "MAOS_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Where `maos up` listens (default 127.0.0.1:7700; port 0: a free
    /// port, which `maos up` prints as `maos listening on http://ADDR`).
    #[arg(long, env = "MAOS_HTTP_ADDR", global = true)]
    pub http_addr: Option<SocketAddr>,
    /// The server the other commands talk to (default
    /// `http://<http-addr>`); with none answering there, they start an
    /// embedded one in-process.
    #[arg(long, env = "MAOS_URL", global = true)]
    pub url: Option<String>,
    /// Don't look for a server: run one in this process for this command.
    #[arg(long, env = "MAOS_EMBEDDED", global = true)]
    pub embedded: bool,
    /// API token (default: the data dir's admin token).
    #[arg(long, env = "MAOS_TOKEN", global = true, hide_env_values = true)]
    pub token: Option<String>,
    /// Agents to register (YAML or JSON); same names are updated.
    #[arg(long, env = "MAOS_AGENTS", global = true)]
    pub agents: Option<PathBuf>,
    /// Where task workspaces are created (default `<data-dir>/workspaces`).
    #[arg(long, env = "MAOS_WORKSPACES", global = true)]
    pub workspaces: Option<PathBuf>,
}

/// `maos.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database_url: Option<String>,
    data_dir: Option<PathBuf>,
    http_addr: Option<SocketAddr>,
    url: Option<String>,
    token: Option<String>,
    agents: Option<PathBuf>,
    workspaces: Option<PathBuf>,
    log_format: Option<String>,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Every setting, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub data_dir: PathBuf,
    pub http_addr: SocketAddr,
    pub url: String,
    pub token: Option<String>,
    pub agents: Option<PathBuf>,
    pub workspaces: PathBuf,
    pub log_format: LogFormat,
}

impl Settings {
    pub fn resolve(args: &GlobalArgs) -> anyhow::Result<Settings> {
        let file = read_file(args.config.as_deref())?;
        let data_dir = args
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(".maos"));
        let http_addr = args
            .http_addr
            .or(file.http_addr)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 7700)));
        let log_format = match std::env::var("MAOS_LOG_FORMAT")
            .ok()
            .or(file.log_format)
            .as_deref()
        {
            None | Some("pretty") | Some("") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => anyhow::bail!("MAOS_LOG_FORMAT must be pretty or json, not {other:?}"),
        };
        Ok(Settings {
            database_url: args
                .database_url
                .clone()
                .or(file.database_url)
                .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("maos.db").display())),
            url: args
                .url
                .clone()
                .or(file.url)
                .unwrap_or_else(|| format!("http://{http_addr}"))
                .trim_end_matches('/')
                .to_owned(),
            token: args.token.clone().or(file.token),
            agents: args.agents.clone().or(file.agents),
            workspaces: args
                .workspaces
                .clone()
                .or(file.workspaces)
                .unwrap_or_else(|| data_dir.join("workspaces")),
            http_addr,
            data_dir,
            log_format,
        })
    }
}

fn read_file(explicit: Option<&Path>) -> anyhow::Result<FileSettings> {
    let path = match explicit {
        Some(p) => p.to_owned(),
        None => {
            let default = PathBuf::from("maos.toml");
            if !default.exists() {
                return Ok(FileSettings::default());
            }
            default
        }
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.message()))
}
