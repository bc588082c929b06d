//! Rows a model makes from the log's own columns ([`FromLog`]), taken from
//! the batch already read: on SQLite inserted many rows per statement, on
//! PostgreSQL shipped as one array per column. Copying them from
//! `maos_events` in SQL would make the database parse every event's JSON
//! metadata again: more than half of such a statement's time on
//! PostgreSQL, and on SQLite time of the single writer, which every append
//! waits for.

use crate::{Error, FromLog};
use maos_store::RecordedEvent;
use uuid::Uuid;

/// One model's rows from the log for one batch.
#[derive(Debug)]
pub(crate) struct LogRows {
    pub sql: &'static FromLog,
    pub columns: LogColumns,
}

/// The columns [`FromLog`] statements get, in their parameter order:
/// position, type, correlation, causation, user, time (µs).
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
