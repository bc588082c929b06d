//! Turning PostgreSQL rows into envelopes and snapshots.

use crate::int::to_u64;
use crate::{Error, EventEnvelope, Snapshot};
use sqlx::Row;
use sqlx::postgres::PgRow;

/// Decodes a row of `read_all.sql` / `read_stream.sql`.
pub(super) fn decode_event(row: &PgRow) -> Result<EventEnvelope, Error> {
    let position = to_u64(row.try_get::<i64, _>(0)?);
    let metadata: serde_json::Value = row.try_get(8)?;
    Ok(EventEnvelope {
        id: row.try_get(1)?,
        stream: row.try_get(2)?,
        version: to_u64(row.try_get(3)?),
        event_type: row.try_get(4)?,
        timestamp: row.try_get(5)?,
        source: row.try_get(6)?,
        data: row.try_get(7)?,
        metadata: serde_json::from_value(metadata).map_err(|e| Error::Corrupt {
            position,
            reason: format!("metadata: {e}"),
        })?,
        position,
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
