//! What goes into the store and what comes back.

use crate::Error;
use chrono::{DateTime, Utc};
use maos_domain::{DomainEvent, EventEnvelope, Metadata};
use serde_json::Value;
use std::fmt;
use uuid::Uuid;

/// The version a stream must be at for an append to go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// No check.
    Any,
    /// The stream must have no events.
    NoStream,
    /// The stream's last event must have this version.
    Exact(u64),
}

impl ExpectedVersion {
    /// What an aggregate folded to `version` events expects: `NoStream` for
    /// 0, else `Exact(version)`.
    pub fn after(version: u64) -> Self {
        if version == 0 {
            ExpectedVersion::NoStream
        } else {
            ExpectedVersion::Exact(version)
        }
    }

    /// Whether a stream at `actual` (`None`: no events) satisfies this.
    pub fn matches(self, actual: Option<u64>) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => actual.is_none(),
            ExpectedVersion::Exact(v) => actual == Some(v),
        }
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::NoStream => f.write_str("no stream"),
            ExpectedVersion::Exact(v) => write!(f, "version {v}"),
        }
    }
}

/// An event to append. The store adds stream, version, position and
/// timestamp.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Unique id; the idempotency and dedupe key. UUID v7 by default.
    pub id: Uuid,
    pub event_type: String,
    /// The payload; must be a JSON object.
    pub data: Value,
    pub metadata: Metadata,
    /// Who writes it: `<node>/<actor>`.
    pub source: String,
}

impl NewEvent {
    /// A new event with a fresh UUID v7 id and source `maos`.
    pub fn new(event_type: impl Into<String>, data: Value, metadata: Metadata) -> Self {
        NewEvent {
            id: Uuid::now_v7(),
            event_type: event_type.into(),
            data,
            metadata,
            source: "maos".to_owned(),
        }
    }

    /// A new event carrying a domain event.
    pub fn from_domain(event: &impl DomainEvent, metadata: Metadata) -> Self {
        NewEvent::new(event.event_type(), event.to_data(), metadata)
    }

    /// The same event with id `id` (for retries that must dedupe).
    pub fn with_id(mut self, id: Uuid) -> Self {
        self.id = id;
        self
    }

    /// The same event written by `source`.
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = source.into();
        self
    }
}

/// Where an append's events landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendResult {
    pub first_version: u64,
    /// The stream's version after the append: the next expected version.
    pub last_version: u64,
    pub first_position: u64,
    pub last_position: u64,
}

/// A stream's folded state at a version, to rehydrate from without reading
/// the whole stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub stream: String,
    pub version: u64,
    pub state: Value,
    pub taken_at: DateTime<Utc>,
}

/// The store's clock, truncated to microseconds so a timestamp reads back
/// exactly as it was returned, on every backend.
pub(crate) fn now_micros() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// An event as the log holds it, its payload and metadata still JSON text.
/// Readers that decode the payload into their own types (folds, read
/// models) read these and skip building a generic JSON tree;
/// [`into_envelope`](RecordedEvent::into_envelope) gives the envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    pub id: Uuid,
    pub event_type: String,
    pub stream: String,
    pub version: u64,
    pub position: u64,
    pub timestamp: DateTime<Utc>,
    pub source: String,
    /// The payload: a JSON object, as text.
    pub data: String,
    /// The [`Metadata`], as JSON text.
    pub metadata: String,
}

impl RecordedEvent {
    /// The metadata, decoded.
    pub fn decode_metadata(&self) -> Result<Metadata, Error> {
        serde_json::from_str(&self.metadata).map_err(|e| self.corrupt("metadata", &e))
    }

    /// The envelope, payload and metadata decoded.
    pub fn into_envelope(self) -> Result<EventEnvelope, Error> {
        let parts = self.decode_parts()?;
        Ok(self.with_parts(parts))
    }

    /// Payload and metadata decoded, leaving `self` as it is on an error.
    pub(crate) fn decode_parts(&self) -> Result<(Value, Metadata), Error> {
        let data = serde_json::from_str(&self.data).map_err(|e| self.corrupt("data", &e))?;
        Ok((data, self.decode_metadata()?))
    }

    /// The envelope from this event and its decoded parts.
    pub(crate) fn with_parts(self, (data, metadata): (Value, Metadata)) -> EventEnvelope {
        EventEnvelope {
            id: self.id,
            event_type: self.event_type,
            stream: self.stream,
            version: self.version,
            position: self.position,
            timestamp: self.timestamp,
            source: self.source,
            data,
            metadata,
        }
    }

    fn corrupt(&self, part: &str, error: &serde_json::Error) -> Error {
        Error::Corrupt {
            position: self.position,
            reason: format!("{part}: {error}"),
        }
    }
}

/// What folding the log needs of an event: where it is, what it is and its
/// payload ([`EventStore::read_all_payloads`](crate::EventStore::read_all_payloads)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPayload {
    pub position: u64,
    pub stream: String,
    pub version: u64,
    pub event_type: String,
    /// The payload: a JSON object, as text.
    pub data: String,
}
