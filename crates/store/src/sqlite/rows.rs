//! Turning SQLite rows into envelopes and snapshots.

use crate::int::to_u64;
use crate::{Error, EventEnvelope, Snapshot};
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

/// Decodes a row of `read_all.sql` / `read_stream.sql`.
pub(super) fn decode_event(row: &SqliteRow) -> Result<EventEnvelope, Error> {
    let position = to_u64(row.try_get::<i64, _>(0)?);
    let corrupt = |reason: String| Error::Corrupt { position, reason };
    let id: String = row.try_get(1)?;
    let data: String = row.try_get(7)?;
    let metadata: String = row.try_get(8)?;
    Ok(EventEnvelope {
        id: id.parse().map_err(|e| corrupt(format!("id: {e}")))?,
        event_type: row.try_get(4)?,
        stream: row.try_get(2)?,
        version: to_u64(row.try_get(3)?),
        position,
        timestamp: micros_to_time(row.try_get(5)?)
            .ok_or_else(|| corrupt("recorded_at out of range".into()))?,
        source: row.try_get(6)?,
        data: serde_json::from_str(&data).map_err(|e| corrupt(format!("data: {e}")))?,
        metadata: serde_json::from_str(&metadata).map_err(|e| corrupt(format!("metadata: {e}")))?,
    })
}

/// Decodes a row of `load_snapshot.sql`.
pub(super) fn decode_snapshot(row: &SqliteRow) -> Result<Snapshot, Error> {
    let stream: String = row.try_get(0)?;
    let state: String = row.try_get(2)?;
    let corrupt = |reason: String| Error::Corrupt {
        position: 0,
        reason,
    };
    Ok(Snapshot {
        version: to_u64(row.try_get(1)?),
        state: serde_json::from_str(&state)
            .map_err(|e| corrupt(format!("snapshot of {stream}: {e}")))?,
        taken_at: micros_to_time(row.try_get(3)?)
            .ok_or_else(|| corrupt("snapshot time out of range".into()))?,
        stream,
    })
}

fn micros_to_time(micros: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros)
}
