//! What every request handler shares.

use super::auth::Tokens;
use super::error::ApiError;
use super::idempotency::InFlight;
use maos_actors::Node;
use maos_projections::ProjectorStatus;
use maos_store::{EventStore, Store};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::watch;

/// Longest a query waits for a read model to catch up with the log.
pub const READ_YOUR_WRITES_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The server's shared state.
#[derive(Debug)]
pub struct AppState {
    pub store: Store,
    /// The orchestration node; `None` when the server only answers queries.
    pub node: Option<Node>,
    pub tokens: Tokens,
    pub in_flight: InFlight,
    /// The projectors feeding the read models.
    pub projectors: Vec<watch::Receiver<ProjectorStatus>>,
    pub body_limit: usize,
    pub counters: Counters,
    /// Turns true when the server stops: live streams end then, so a
    /// graceful stop doesn't wait on them.
    pub closing: watch::Sender<bool>,
}

/// Request counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    pub requests: [AtomicU64; 5],
    pub commands: AtomicU64,
}

impl Counters {
    pub fn count_response(&self, status: u16) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.requests[class].fetch_add(1, Ordering::Relaxed);
    }
}

impl AppState {
    pub fn new(
        store: Store,
        node: Option<Node>,
        projectors: Vec<watch::Receiver<ProjectorStatus>>,
        body_limit: usize,
    ) -> AppState {
        AppState {
            tokens: Tokens::new(store.clone()),
            store,
            node,
            in_flight: InFlight::default(),
            projectors,
            body_limit,
            counters: Counters::default(),
            closing: watch::Sender::new(false),
        }
    }

    /// The node, for commands.
    pub fn node(&self) -> Result<&Node, ApiError> {
        self.node.as_ref().ok_or_else(|| {
            ApiError::unavailable(
                "NODE_UNAVAILABLE",
                "this server answers queries only; commands need `maos up`",
            )
        })
    }

    /// Waits until the read model `name` has applied every event committed
    /// before this call (at most [`READ_YOUR_WRITES_WAIT`]), so a client
    /// that just wrote reads its own write. No wait on a server without
    /// that projector.
    pub async fn read_your_writes(&self, name: &str) -> Result<(), ApiError> {
        let Some(status) = self.projectors.iter().find(|p| p.borrow().name == name) else {
            return Ok(());
        };
        let head = self.store.head_position().await?;
        let mut status = status.clone();
        {
            // Under a steady stream the projector gathers its next batch
            // for up to its commit interval; this reader wants it now.
            let now = status.borrow();
            if now.checkpoint < head {
                now.hurry.now();
            }
        }
        let caught_up = status.wait_for(|s| s.checkpoint >= head);
        // Past the wait the answer is what the model holds: a stalled
        // projector shows in /readyz, not as a hanging query.
        let _ = tokio::time::timeout(READ_YOUR_WRITES_WAIT, caught_up).await;
        Ok(())
    }

    /// Makes sure the data dir's admin token works (see [`Tokens::ensure_admin_token`]).
    pub async fn ensure_admin_token(&self, data_dir: &std::path::Path) -> Result<(), ApiError> {
        self.tokens.ensure_admin_token(data_dir).await
    }
}
