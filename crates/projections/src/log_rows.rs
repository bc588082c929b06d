//! Rows a model makes from the log's own columns ([`FromLog`]), taken from
//! the batch already read: on SQLite inserted many rows per statement, on
//! PostgreSQL sent by `COPY` in its binary format (the server inserts
//! them a page at a time, with one WAL record per page rather than per
//! row: about 40% less server time than inserting from arrays). Copying them from
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

/// The start of PostgreSQL's binary `COPY` data: signature, flags, no
/// header extension.
const COPY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// Fields per row, in [`LogColumns`]' order.
const COPY_FIELDS: i16 = 6;

impl LogColumns {
    /// The rows in PostgreSQL's binary `COPY` format, for columns of types
    /// `int8, text, uuid, uuid, text, int8` (in [`LogColumns`]' order).
    pub(crate) fn copy_binary(&self) -> Vec<u8> {
        let rows = self.position.len();
        let mut out = Vec::with_capacity(COPY_HEADER.len() + rows * 96 + 2);
        out.extend_from_slice(COPY_HEADER);
        for row in 0..rows {
            out.extend_from_slice(&COPY_FIELDS.to_be_bytes());
            field(&mut out, Some(&self.position[row].to_be_bytes()));
            field(&mut out, Some(self.event_type[row].as_bytes()));
            field(&mut out, Some(self.correlation_id[row].as_bytes()));
            field(
                &mut out,
                self.causation_id[row].as_ref().map(|id| &id.as_bytes()[..]),
            );
            field(&mut out, self.user_id[row].as_deref().map(str::as_bytes));
            field(&mut out, Some(&self.recorded_at[row].to_be_bytes()));
        }
        // The trailer: a field count of -1.
        out.extend_from_slice(&(-1i16).to_be_bytes());
        out
    }
}

/// One field: its length (-1 for NULL), then its bytes.
fn field(out: &mut Vec<u8>, value: Option<&[u8]>) {
    match value {
        Some(bytes) => {
            let len = i32::try_from(bytes.len()).unwrap_or(i32::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(bytes);
        }
        None => out.extend_from_slice(&(-1i32).to_be_bytes()),
    }
}
