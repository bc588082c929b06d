//! The HTTP API: commands, queries, live events, health and metrics, under
//! `/api/v1` (health, readiness and metrics at the root). One route table
//! ([`routes::ENDPOINTS`]) declares every route with the role it needs and
//! its shapes; the router, the auth gate and the OpenAPI document are all
//! made from it.

mod auth;
mod body;
mod commands;
mod envelope;
mod error;
mod gate;
mod idempotency;
mod live;
mod openapi;
mod ops;
mod params;
mod queries;
mod routes;
mod state;
mod token_cache;
mod views;

pub use auth::ADMIN_TOKEN_FILE;
pub use body::DEFAULT_LIMIT as DEFAULT_BODY_LIMIT;
pub use openapi::document as openapi_document;
pub use state::AppState;
pub use views::SubmittedView;

use actix_web::{App, HttpServer, web};
use std::net::SocketAddr;
use std::sync::Arc;

/// How the server listens.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub addr: SocketAddr,
    /// HTTP worker threads.
    pub workers: usize,
}

/// A listening server.
#[derive(Debug)]
pub struct Running {
    /// Where it listens (the real port when asked for port 0).
    pub addr: SocketAddr,
    state: Arc<AppState>,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish, and returns.
    pub async fn stop(self) {
        self.state.closing.send_replace(true);
        self.handle.stop(true).await;
        let _ = self.task.await;
    }
}

/// Binds `options.addr` and serves the API over `state`.
pub fn start(state: Arc<AppState>, options: &ServerOptions) -> std::io::Result<Running> {
    let data = web::Data::from(state.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::QueryConfig::default().error_handler(envelope::query_error))
            .configure(routes::register)
            .default_service(web::to(envelope::no_route))
            .wrap(actix_web::middleware::from_fn(gate::gate))
    })
    .workers(options.workers.max(1))
    .disable_signals()
    .shutdown_timeout(5)
    .bind(options.addr)?;
    let addr = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| std::io::Error::other("the server bound no address"))?;
    let server = server.run();
    let handle = server.handle();
    let task = tokio::task::spawn_local(server);
    Ok(Running {
        addr,
        state,
        handle,
        task,
    })
}
