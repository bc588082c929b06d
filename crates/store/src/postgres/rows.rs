//! Turning PostgreSQL rows into envelopes and snapshots.

use crate::int::to_u64;
use crate::{Error, RecordedEvent, Snapshot};
use sqlx::Row;
use sqlx::postgres::PgRow;

/// Decodes a row of `read_all.sql` / `read_stream.sql`.
pub(super) fn decode_event(row: &PgRow) -> Result<RecordedEvent, Error> {
    Ok(RecordedEvent {
        position: to_u64(row.try_get::<i64, _>(0)?),
        id: row.try_get(1)?,
        stream: row.try_get(2)?,
        version: to_u64(row.try_get(3)?),
        event_type: row.try_get(4)?,
        timestamp: row.try_get(5)?,
        source: row.try_get(6)?,
        data: row.try_get(7)?,
        metadata: row.try_get(8)?,
    })
}

/// Decodes a row of `load_snapshot.sql`.
pub(super) fn decode_snapshot(row: &PgRow) -> Result<Snapshot, Error> {
    Ok(Snapshot {
        stream: row.try_get(0)?,
        version: to_u64(row.try_get(1)?),
        state: row.try_get(2)?,
        taken_at: row.try_get(3)?,
    })
}
