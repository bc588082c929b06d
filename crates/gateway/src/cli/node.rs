//! Options shared by the commands that run a node, and starting one.

use maos_actors::{AgentsFile, Node, NodeConfig};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct NodeArgs {
    /// The event store: `sqlite://PATH` (embedded, the default) or
    /// `postgres://…`.
    #[arg(long, env = "MAOS_DATABASE_URL", default_value = super::DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// Agents to register (YAML or JSON); agents already registered under
    /// the same names are updated.
    #[arg(long, env = "MAOS_AGENTS")]
    pub agents: Option<PathBuf>,
    /// Where task workspaces are created.
    #[arg(long, env = "MAOS_WORKSPACES", default_value = ".maos/workspaces")]
    pub workspaces: PathBuf,
}

/// Opens the store, starts a node (resuming what is live) and registers
/// the agents file, if any.
pub async fn start(args: &NodeArgs) -> anyhow::Result<Node> {
    let agents = match &args.agents {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            Some(AgentsFile::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?)
        }
        None => None,
    };
    let store = super::open_store(&args.database_url).await?;
    let config = NodeConfig {
        workspace_root: args.workspaces.clone(),
        ..NodeConfig::default()
    };
    let node = Node::start(store, config).await?;
    if let Some(agents) = agents {
        node.register_agents(&agents).await?;
    }
    Ok(node)
}
