//! Turning SQLite rows into envelopes and snapshots.

use crate::int::to_u64;
use crate::{Error, EventPayload, RecordedEvent, Snapshot};
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

/// Most rows a read reserves room for before it sees them.
const PREALLOCATE: usize = 1_000;

/// Runs `sql` with `params` and decodes each of its (at most `limit`)
/// rows with `decode`.
pub(super) fn query<T>(
    connection: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
    limit: usize,
    decode: impl Fn(&rusqlite::Row<'_>) -> Result<T, Error>,
) -> Result<Vec<T>, Error> {
    let mut statement = connection.prepare_cached(sql)?;
    let mut rows = statement.query(params)?;
    let mut out = Vec::with_capacity(limit.min(PREALLOCATE));
    while let Some(row) = rows.next()? {
        out.push(decode(row)?);
    }
    Ok(out)
}

/// Decodes a row of `read_all_payloads.sql`.
pub(super) fn decode_payload(row: &rusqlite::Row<'_>) -> Result<EventPayload, Error> {
    Ok(EventPayload {
        position: to_u64(row.get(0)?),
        stream: row.get(1)?,
        version: to_u64(row.get(2)?),
        event_type: row.get(3)?,
        data: row.get(4)?,
    })
}

/// Decodes a row of `read_all.sql` / `read_stream.sql`.
pub(super) fn decode_event(row: &rusqlite::Row<'_>) -> Result<RecordedEvent, Error> {
    let position = to_u64(row.get::<_, i64>(0)?);
    let corrupt = |reason: String| Error::Corrupt { position, reason };
    let id = row
        .get_ref(1)?
        .as_str()
        .map_err(|e| corrupt(format!("id: {e}")))?
        .parse()
        .map_err(|e| corrupt(format!("id: {e}")))?;
    Ok(RecordedEvent {
        id,
        stream: row.get(2)?,
        version: to_u64(row.get(3)?),
        event_type: row.get(4)?,
        timestamp: micros_to_time(row.get(5)?)
            .ok_or_else(|| corrupt("recorded_at out of range".into()))?,
        source: row.get(6)?,
        data: row.get(7)?,
        metadata: row.get(8)?,
        position,
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
