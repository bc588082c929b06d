//! Rows a model makes from the log itself ([`FromLog`]): on SQLite the
//! database copies them from `maos_events` in SQL; on PostgreSQL they are
//! shipped from the batch already read, as one array per column, since
//! PostgreSQL would otherwise parse every event's JSON metadata again
//! (more than half of such a statement's time).

use crate::{Error, FromLog};
use maos_store::RecordedEvent;
use uuid::Uuid;

/// One model's rows from the log for one batch.
#[derive(Debug)]
pub(crate) struct LogRows {
    pub sql: &'static FromLog,
    pub source: LogSource,
}

/// Where the rows' values come from.
#[derive(Debug)]
pub(crate) enum LogSource {
    /// The log's events after this position, up to the batch's end (SQLite).
    After(u64),
    /// The batch's own events, column by column (PostgreSQL).
    Shipped(LogColumns),
}

/// The columns a [`FromLog`] PostgreSQL statement gets, in its parameter
/// order: position, type, correlation, causation, user, time (µs).
#[derive(Debug, Default)]
pub(crate) struct LogColumns {
    pub position: Vec<i64>,
    pub event_type: Vec<String>,
    pub correlation_id: Vec<Uuid>,
    pub causation_id: Vec<Option<Uuid>>,
    pub user_id: Vec<Option<String>>,
    pub recorded_at: Vec<i64>,
}

impl LogColumns {
    /// The columns of `events`; an event whose metadata does not decode
    /// fails the batch, as the SQL copy's `NOT NULL` would.
    pub(crate) fn of<'a>(events: impl Iterator<Item = &'a RecordedEvent>) -> Result<Self, Error> {
        let mut columns = LogColumns::default();
        for event in events {
            let metadata = event.decode_metadata()?;
            columns
                .position
                .push(i64::try_from(event.position).unwrap_or(i64::MAX));
            columns.event_type.push(event.event_type.clone());
            columns.correlation_id.push(metadata.correlation_id);
            columns.causation_id.push(metadata.causation_id);
            columns.user_id.push(metadata.user_id);
            columns.recorded_at.push(event.timestamp.timestamp_micros());
        }
        Ok(columns)
    }
}
