//! Turning SQLite rows into envelopes and snapshots.

use crate::int::to_u64;
use crate::{Error, EventPayload, RecordedEvent, Snapshot};
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

/// Most rows a read reserves room for before it sees them.
const PREALLOCATE: usize = 1_000;

/// Runs `sql` with `params` and decodes its first `limit` rows with
/// `decode`. The reads' SQL has no `LIMIT`: SQLite plans with a bound
/// `LIMIT`'s value, so a new one each run would expire the cached
/// statement and have it parsed and planned again; their rows come in
/// index order, so stopping after `limit` of them is the same page.
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
    while out.len() < limit {
        let Some(row) = rows.next()? else { break };
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

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::{Connection, StatementStatus};

    const READ_ALL: &str = include_str!("read_all.sql");
    const READ_ALL_PAYLOADS: &str = include_str!("read_all_payloads.sql");
    const READ_STREAM: &str = include_str!("read_stream.sql");

    /// A log of `n` events on stream `s`, versions and positions 1..=n.
    fn log(n: i64) -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(include_str!(
            "../../../../migrations/sqlite/20261121000001_event_store.sql"
        ))
        .unwrap();
        for i in 1..=n {
            c.execute(
                "INSERT INTO maos_events VALUES (?1, ?2, 's', ?1, 't.e.x', 0, 'src', '{}', '{}')",
                rusqlite::params![i, uuid::Uuid::now_v7().to_string()],
            )
            .unwrap();
        }
        c
    }

    fn reprepared(c: &Connection, sql: &str) -> i32 {
        c.prepare_cached(sql)
            .unwrap()
            .get_status(StatementStatus::RePrepare)
    }

    /// Pages of different sizes from one cached statement: each holds the
    /// rows a `LIMIT` would, and the statement is never parsed again.
    #[test]
    fn reads_take_their_page_and_keep_their_prepared_statement() {
        let c = log(10);
        for (after, limit, expected) in [(0, 3, 1..=3), (3, 5, 4..=8), (8, 100, 9..=10)] {
            let all = query(&c, READ_ALL, (after,), limit, decode_event).unwrap();
            let payloads = query(&c, READ_ALL_PAYLOADS, (after,), limit, decode_payload).unwrap();
            let stream = query(&c, READ_STREAM, ("s", after), limit, decode_event).unwrap();
            let want: Vec<u64> = expected.collect();
            assert_eq!(all.iter().map(|e| e.position).collect::<Vec<_>>(), want);
            assert_eq!(
                payloads.iter().map(|e| e.position).collect::<Vec<_>>(),
                want
            );
            assert_eq!(stream.iter().map(|e| e.version).collect::<Vec<_>>(), want);
        }
        assert!(
            query(&c, READ_ALL, (0,), 0, decode_event)
                .unwrap()
                .is_empty()
        );
        for sql in [READ_ALL, READ_ALL_PAYLOADS, READ_STREAM] {
            assert_eq!(reprepared(&c, sql), 0, "re-prepared: {sql}");
        }
    }
}
