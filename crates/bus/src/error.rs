//! The bus's error type.

/// Why a relay, publisher or subscriber step failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The broker could not be reached or dropped the connection.
    #[error("{broker}: cannot connect to {url}: {reason}")]
    Connect {
        broker: &'static str,
        url: String,
        reason: String,
    },
    /// The broker refused or did not confirm a publish.
    #[error("{broker}: publish of event {event_id} not confirmed: {reason}")]
    Publish {
        broker: &'static str,
        event_id: uuid::Uuid,
        reason: String,
    },
    /// Declaring the stream, exchange, consumer or queue failed.
    #[error("{broker}: cannot set up {what}: {reason}")]
    Setup {
        broker: &'static str,
        what: String,
        reason: String,
    },
    /// A message read from a broker is not an event envelope.
    #[error("{broker}: message is not an event envelope: {reason}")]
    Decode {
        broker: &'static str,
        reason: String,
    },
    /// A type pattern that can't be used (see [`crate::TypePattern`]).
    #[error("invalid type pattern {pattern:?}: {reason}")]
    Pattern {
        pattern: String,
        reason: &'static str,
    },
    /// The event store failed.
    #[error(transparent)]
    Store(#[from] maos_store::Error),
}
