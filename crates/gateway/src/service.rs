//! A whole maos service in this process: the store, the orchestration node
//! (unless only queries are wanted), the projectors and the HTTP API.

use crate::config::Settings;
use crate::server::{self, AppState, Running, ServerOptions};
use maos_actors::{AgentsFile, Node, NodeConfig};
use maos_projections::audit::AuditLog;
use maos_projections::board::WorkflowBoard;
use maos_projections::{Projector, ProjectorConfig, ReadModel};
use maos_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;

/// A running service.
#[derive(Debug)]
pub struct Service {
    pub store: Store,
    pub node: Option<Node>,
    pub server: Running,
    projectors: Vec<tokio::task::JoinHandle<()>>,
}

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Node, projectors and API.
    Full,
    /// Projectors and API; commands answer 503.
    QueriesOnly,
}

impl Service {
    /// Starts everything, listening on `addr` (port 0: any free port).
    pub async fn start(
        settings: &Settings,
        mode: Mode,
        addr: SocketAddr,
    ) -> anyhow::Result<Service> {
        let agents = match (&settings.agents, mode) {
            (Some(path), Mode::Full) => Some(read_agents(path)?),
            _ => None,
        };
        if settings.database_url.starts_with("sqlite://") {
            std::fs::create_dir_all(&settings.data_dir).map_err(|e| {
                anyhow::anyhow!("cannot create {}: {e}", settings.data_dir.display())
            })?;
        }
        let store = Store::open(&settings.database_url).await?;
        // Read models are caught up before the first query is answered.
        let mut statuses = Vec::new();
        let mut projectors = Vec::new();
        for (status, task) in [
            project(&store, AuditLog).await?,
            project(&store, WorkflowBoard).await?,
        ] {
            statuses.push(status);
            projectors.push(task);
        }
        let node = match mode {
            Mode::Full => {
                let config = NodeConfig {
                    workspace_root: settings.workspaces.clone(),
                    ..NodeConfig::default()
                };
                let node = Node::start(store.clone(), config).await?;
                if let Some(agents) = &agents {
                    node.register_agents(agents).await?;
                }
                Some(node)
            }
            Mode::QueriesOnly => None,
        };
        let state = Arc::new(AppState::new(
            store.clone(),
            node.clone(),
            statuses,
            server::DEFAULT_BODY_LIMIT,
        ));
        state
            .ensure_admin_token(&settings.data_dir)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        let options = ServerOptions { addr, workers: 2 };
        let server = server::start(state, &options)
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        Ok(Service {
            store,
            node,
            server,
            projectors,
        })
    }

    /// Stops the API, the projectors and the node (everything is in the store).
    pub async fn stop(self) {
        self.server.stop().await;
        for p in &self.projectors {
            p.abort();
        }
        if let Some(node) = &self.node {
            node.stop();
        }
    }
}

/// Catches a read model up with the log, then follows it in the background.
async fn project<M: ReadModel>(
    store: &Store,
    model: M,
) -> anyhow::Result<(
    tokio::sync::watch::Receiver<maos_projections::ProjectorStatus>,
    tokio::task::JoinHandle<()>,
)> {
    let projector = Projector::new(store.clone(), model, ProjectorConfig::default());
    projector.catch_up(|_, _| {}).await?;
    let status = projector.status();
    Ok((status, tokio::spawn(projector.run())))
}

pub fn read_agents(path: &std::path::Path) -> anyhow::Result<AgentsFile> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    AgentsFile::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}
