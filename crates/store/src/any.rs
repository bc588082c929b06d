//! [`Store`]: the backend chosen at run time from a URL, behind the same
//! [`EventStore`] contract.

use crate::postgres::PostgresStore;
use crate::sqlite::SqliteStore;
use crate::{
    AppendResult, Error, EventPayload, EventStore, ExpectedVersion, NewEvent, RecordedEvent,
    Snapshot,
};
use tokio::sync::watch;

/// An event store on whichever backend its URL names.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Store {
    /// Opens the store `url` names:
    /// - `sqlite://PATH` or `sqlite:PATH`: the database file PATH;
    /// - `postgres://…` or `postgresql://…`: a PostgreSQL database.
    pub async fn open(url: &str) -> Result<Store, Error> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Store::Postgres(PostgresStore::connect(url).await?));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(Error::InvalidUrl {
                    url: url.to_owned(),
                    reason: "no database file after sqlite://".to_owned(),
                });
            }
            return Ok(Store::Sqlite(SqliteStore::open(path).await?));
        }
        Err(Error::InvalidUrl {
            url: url.to_owned(),
            reason: "expected sqlite://PATH or postgres://…".to_owned(),
        })
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            Store::Sqlite($s) => $call,
            Store::Postgres($s) => $call,
        }
    };
}

impl EventStore for Store {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, Error> {
        delegate!(self, s => s.append(stream, expected, events).await)
    }

    async fn read_stream_recorded(
        &self,
        stream: &str,
        after_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        delegate!(self, s => s.read_stream_recorded(stream, after_version, limit).await)
    }

    async fn read_all_recorded(
        &self,
        after_position: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        delegate!(self, s => s.read_all_recorded(after_position, limit).await)
    }

    async fn read_all_payloads(
        &self,
        after_position: u64,
        limit: usize,
    ) -> Result<Vec<EventPayload>, Error> {
        delegate!(self, s => s.read_all_payloads(after_position, limit).await)
    }

    async fn head_position(&self) -> Result<u64, Error> {
        delegate!(self, s => s.head_position().await)
    }

    async fn stream_version(&self, stream: &str) -> Result<Option<u64>, Error> {
        delegate!(self, s => s.stream_version(stream).await)
    }

    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<(), Error> {
        delegate!(self, s => s.save_snapshot(snapshot).await)
    }

    async fn load_snapshot(&self, stream: &str) -> Result<Option<Snapshot>, Error> {
        delegate!(self, s => s.load_snapshot(stream).await)
    }

    async fn load_checkpoint(&self, name: &str) -> Result<u64, Error> {
        delegate!(self, s => s.load_checkpoint(name).await)
    }

    async fn save_checkpoint(&self, name: &str, position: u64) -> Result<(), Error> {
        delegate!(self, s => s.save_checkpoint(name, position).await)
    }

    fn head_watch(&self) -> watch::Receiver<u64> {
        delegate!(self, s => s.head_watch())
    }

    fn read_recent(&self, after_position: u64, limit: usize) -> Option<Vec<RecordedEvent>> {
        delegate!(self, s => s.read_recent(after_position, limit))
    }
}
