//! The PostgreSQL backend: production, and several maos nodes on one
//! database.
//!
//! Each store handle has one writer task (group commit) with a connection
//! of its own; reads and snapshots use a pool. Sessions run with `synchronous_commit=on`, so an
//! append that returned is flushed. Global order: writers serialize on the
//! single row of `maos_global_position` (see `lock_head.sql` and
//! ARCHITECTURE.md), so positions become visible in order. Live readers are
//! woken by `LISTEN maos_events`, which every writer's commit notifies.

mod fast_path;
mod listener;
mod rows;
mod writer;

use crate::group_commit::{self, AppendRequest, QUEUE_CAPACITY};
use crate::int::{to_i64, to_limit, to_u64};
use crate::recent::Recent;
use crate::{
    AppendResult, Error, EventPayload, EventStore, ExpectedVersion, NewEvent, RecordedEvent,
    Snapshot,
};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Connections per store handle (writer, readers, snapshots).
const MAX_CONNECTIONS: u32 = 8;

/// The PostgreSQL event store. Cheap to clone; clones share one writer.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: PgPool,
    queue: mpsc::Sender<AppendRequest>,
    head: watch::Receiver<u64>,
    /// What this handle's writer committed last, for live followers.
    recent: Arc<Recent>,
    listener: JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

impl PostgresStore {
    /// Connects to the database at `url` and brings its schema up to date.
    #[tracing::instrument(name = "store.postgres.connect", skip_all, err)]
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| Error::InvalidUrl {
                url: redact(url),
                reason: e.to_string(),
            })?
            .options([("synchronous_commit", "on")]);
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("../../migrations/postgres")
            .run(&pool)
            .await?;
        let head: i64 = sqlx::query_scalar(include_str!("postgres/head.sql"))
            .fetch_one(&pool)
            .await?;
        let (head_tx, head_rx) = watch::channel(to_u64(head));
        let head_tx = Arc::new(head_tx);
        let listener = tokio::spawn(listener::run(pool.clone(), head_tx.clone()));
        let (queue, requests) = mpsc::channel(QUEUE_CAPACITY);
        let recent = Arc::new(Recent::default());
        tokio::spawn(group_commit::run_writer(
            writer::PostgresWriter::new(options),
            requests,
            head_tx,
            recent.clone(),
        ));
        Ok(PostgresStore {
            inner: Arc::new(Inner {
                pool,
                queue,
                head: head_rx,
                recent,
                listener,
            }),
        })
    }

    /// The connection pool, for code that shares the database (read models).
    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
    }
}

/// `url` without its password, for error messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl EventStore for PostgresStore {
    #[tracing::instrument(name = "store.append", skip_all, fields(backend = "postgres", stream, events = events.len()), err)]
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, Error> {
        group_commit::submit(&self.inner.queue, stream, expected, events).await
    }

    async fn read_stream_recorded(
        &self,
        stream: &str,
        after_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        let query = sqlx::query(include_str!("postgres/read_stream.sql"))
            .bind(stream)
            .bind(to_i64(after_version))
            .bind(to_limit(limit));
        rows::fetch(query, &self.inner.pool, limit, rows::decode_event).await
    }

    fn read_recent(&self, after_position: u64, limit: usize) -> Option<Vec<RecordedEvent>> {
        self.inner.recent.after(after_position, limit)
    }

    async fn read_all_recorded(
        &self,
        after_position: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        let query = sqlx::query(include_str!("postgres/read_all.sql"))
            .bind(to_i64(after_position))
            .bind(to_limit(limit));
        rows::fetch(query, &self.inner.pool, limit, rows::decode_event).await
    }

    async fn read_all_payloads(
        &self,
        after_position: u64,
        limit: usize,
    ) -> Result<Vec<EventPayload>, Error> {
        let query = sqlx::query(include_str!("postgres/read_all_payloads.sql"))
            .bind(to_i64(after_position))
            .bind(to_limit(limit));
        rows::fetch(query, &self.inner.pool, limit, rows::decode_payload).await
    }

    async fn head_position(&self) -> Result<u64, Error> {
        let head: i64 = sqlx::query_scalar(include_str!("postgres/head.sql"))
            .fetch_one(&self.inner.pool)
            .await?;
        Ok(to_u64(head))
    }

    async fn stream_version(&self, stream: &str) -> Result<Option<u64>, Error> {
        let version: Option<i64> = sqlx::query_scalar(include_str!("postgres/stream_version.sql"))
            .bind(stream)
            .fetch_optional(&self.inner.pool)
            .await?;
        Ok(version.map(to_u64))
    }

    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<(), Error> {
        maos_domain::StreamName::parse(&snapshot.stream)?;
        sqlx::query(include_str!("postgres/save_snapshot.sql"))
            .bind(&snapshot.stream)
            .bind(to_i64(snapshot.version))
            .bind(&snapshot.state)
            .bind(snapshot.taken_at)
            .execute(&self.inner.pool)
            .await?;
        Ok(())
    }

    async fn load_snapshot(&self, stream: &str) -> Result<Option<Snapshot>, Error> {
        let row = sqlx::query(include_str!("postgres/load_snapshot.sql"))
            .bind(stream)
            .fetch_optional(&self.inner.pool)
            .await?;
        row.as_ref().map(rows::decode_snapshot).transpose()
    }

    async fn load_checkpoint(&self, name: &str) -> Result<u64, Error> {
        let position: Option<i64> =
            sqlx::query_scalar(include_str!("postgres/load_checkpoint.sql"))
                .bind(name)
                .fetch_optional(&self.inner.pool)
                .await?;
        Ok(position.map_or(0, to_u64))
    }

    async fn save_checkpoint(&self, name: &str, position: u64) -> Result<(), Error> {
        sqlx::query(include_str!("postgres/save_checkpoint.sql"))
            .bind(name)
            .bind(to_i64(position))
            .bind(chrono::Utc::now())
            .execute(&self.inner.pool)
            .await?;
        Ok(())
    }

    fn head_watch(&self) -> watch::Receiver<u64> {
        self.inner.head.clone()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn it_redacts_passwords_from_urls() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(super::redact("nonsense"), "nonsense");
    }
}
