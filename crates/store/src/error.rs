//! The store's error type: refusals of bad input and conflicts (nothing was
//! written), and infrastructure failures.

use crate::event::ExpectedVersion;
use maos_domain::NameError;
use std::sync::Arc;
use uuid::Uuid;

/// Why a store operation failed. Cheap to clone: one group commit may hand
/// the same failure to every caller in the batch.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// An append with no events.
    #[error("an append needs at least one event")]
    EmptyAppend,
    /// An append over [`crate::MAX_EVENTS_PER_APPEND`] events.
    #[error("an append may hold at most {max} events, got {count}")]
    TooManyEvents { count: usize, max: usize },
    /// A malformed stream name or event type.
    #[error(transparent)]
    InvalidName(#[from] NameError),
    /// Event data must be a JSON object.
    #[error("event {event_id}: data must be a JSON object, got {found}")]
    DataNotObject { event_id: Uuid, found: &'static str },
    /// Metadata that can't be recorded (e.g. schema version 0).
    #[error("event {event_id}: {reason}")]
    InvalidMetadata {
        event_id: Uuid,
        reason: &'static str,
    },
    /// The same event id twice in one append.
    #[error("event id {0} appears twice in one append")]
    DuplicateEventInAppend(Uuid),
    /// The stream is not at the expected version; nothing was written.
    #[error(
        "wrong expected version for stream {stream}: expected {expected}, actual {}",
        display_actual(.actual)
    )]
    Conflict {
        stream: String,
        expected: ExpectedVersion,
        /// The stream's version; `None` if the stream has no events.
        actual: Option<u64>,
    },
    /// An event id is already recorded somewhere this append does not match.
    #[error("event id {id} is already recorded in stream {stream} at version {version}")]
    EventIdTaken {
        id: Uuid,
        stream: String,
        version: u64,
    },
    /// The store URL names no backend or can't be used.
    #[error("invalid store url {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// A stored row that does not decode; the store was altered by hand.
    #[error("stored event at position {position} is corrupt: {reason}")]
    Corrupt { position: u64, reason: String },
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[source] Arc<sqlx::Error>),
    /// The SQLite writer's database calls failed.
    #[error("sqlite error: {0}")]
    Sqlite(#[source] Arc<rusqlite::Error>),
    /// Applying the schema migrations failed.
    #[error("migration failed: {0}")]
    Migration(#[source] Arc<sqlx::migrate::MigrateError>),
    /// Preparing the data directory failed.
    #[error("cannot prepare {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: Arc<std::io::Error>,
    },
    /// A write run on the SQLite writer thread panicked; it was rolled back.
    #[error("a write panicked and was rolled back: {0}")]
    WritePanicked(String),
    /// A read run on a pooled SQLite connection panicked (or its blocking
    /// thread was stopped); nothing was written.
    #[error("a read stopped before it answered: {0}")]
    ReadPanicked(String),
    /// The store handle's writer task has stopped (the runtime is shutting
    /// down).
    #[error("the store's writer has stopped")]
    WriterStopped,
}

fn display_actual(actual: &Option<u64>) -> String {
    match actual {
        Some(v) => format!("version {v}"),
        None => "no stream".to_owned(),
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Database(Arc::new(e))
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Sqlite(Arc::new(e))
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Error::Migration(Arc::new(e))
    }
}

impl Error {
    /// Whether the append was refused as bad input (a client error), as
    /// opposed to a conflict or an infrastructure failure.
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            Error::EmptyAppend
                | Error::TooManyEvents { .. }
                | Error::InvalidName(_)
                | Error::DataNotObject { .. }
                | Error::InvalidMetadata { .. }
                | Error::DuplicateEventInAppend(_)
        )
    }
}
