//! The read side's error type.

/// Why a projection step or a query failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The event store or the database failed.
    #[error(transparent)]
    Store(#[from] maos_store::Error),
    /// A read model's code panicked on an event; it is retried with
    /// back-off and never applied half-way.
    #[error("read model {model} panicked at position {position}")]
    ModelPanicked { model: &'static str, position: u64 },
    /// A stored event that does not decode as its type says.
    #[error("event at position {position} does not decode: {reason}")]
    Corrupt { position: u64, reason: String },
    /// The domain refused the command (e.g. a fork of a fork's own id).
    #[error(transparent)]
    Refused(#[from] maos_domain::Error),
    /// A read or write running beside the caller stopped before it
    /// answered (it panicked, or the runtime is shutting down).
    #[error("a task stopped before it answered: {0}")]
    TaskStopped(String),
    /// A query that can't be answered as asked.
    #[error("invalid query: {0}")]
    InvalidQuery(String),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Store(maos_store::Error::from(e))
    }
}
