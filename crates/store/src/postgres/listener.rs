//! Wakes live subscriptions when any node commits: `LISTEN maos_events`,
//! whose payload is the new head position. Reconnects after a failure;
//! subscriptions also poll, so a lost notification delays, never loses.

use crate::group_commit::advance;
use sqlx::postgres::{PgListener, PgPool};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Channel every writer notifies on commit.
pub(super) const CHANNEL: &str = "maos_events";
const RETRY: Duration = Duration::from_secs(1);

pub(super) async fn run(pool: PgPool, head: Arc<watch::Sender<u64>>) {
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for new events; retrying");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        if let Err(error) = listener.listen(CHANNEL).await {
            tracing::warn!(%error, "LISTEN failed; retrying");
            tokio::time::sleep(RETRY).await;
            continue;
        }
        loop {
            match listener.recv().await {
                Ok(notification) => {
                    if let Ok(position) = notification.payload().parse() {
                        advance(&head, position);
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "event notifications interrupted; reconnecting");
                    break;
                }
            }
        }
    }
}
