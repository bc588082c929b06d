//! Turning PostgreSQL rows into envelopes and snapshots.

use crate::int::to_u64;
use crate::{Error, EventPayload, RecordedEvent, Snapshot};
use futures_util::TryStreamExt;
use sqlx::Row;
use sqlx::postgres::{PgArguments, PgPool, PgRow, Postgres};
use sqlx::query::Query;

/// Runs `query` and decodes each of its (at most `limit`) rows with
/// `decode` as it arrives, while the server sends the next ones.
pub(super) async fn fetch<T>(
    query: Query<'_, Postgres, PgArguments>,
    pool: &PgPool,
    limit: usize,
    decode: impl Fn(&PgRow) -> Result<T, Error>,
) -> Result<Vec<T>, Error> {
    let mut rows = query.fetch(pool);
    let mut out = Vec::with_capacity(limit.min(PREALLOCATE));
    while let Some(row) = rows.try_next().await? {
        out.push(decode(&row)?);
    }
    Ok(out)
}

/// Decodes a row of `read_all_payloads.sql`.
pub(super) fn decode_payload(row: &PgRow) -> Result<EventPayload, Error> {
    Ok(EventPayload {
        position: to_u64(row.try_get_unchecked::<i64, _>(0)?),
        stream: row.try_get_unchecked(1)?,
        version: to_u64(row.try_get_unchecked(2)?),
        event_type: row.try_get_unchecked(3)?,
        data: row.try_get_unchecked(4)?,
    })
}

/// Most rows a read reserves room for before it sees them.
const PREALLOCATE: usize = 10_000;

/// Decodes a row of `read_all.sql` / `read_stream.sql`. The column types
/// are the schema's, so they are not checked again per row.
pub(super) fn decode_event(row: &PgRow) -> Result<RecordedEvent, Error> {
    Ok(RecordedEvent {
        position: to_u64(row.try_get_unchecked::<i64, _>(0)?),
        id: row.try_get_unchecked(1)?,
        stream: row.try_get_unchecked(2)?,
        version: to_u64(row.try_get_unchecked(3)?),
        event_type: row.try_get_unchecked(4)?,
        timestamp: row.try_get_unchecked(5)?,
        source: row.try_get_unchecked(6)?,
        data: row.try_get_unchecked(7)?,
        metadata: row.try_get_unchecked(8)?,
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
