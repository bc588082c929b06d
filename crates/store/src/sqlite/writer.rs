//! The SQLite side of group commit: one `BEGIN IMMEDIATE` transaction per
//! batch, four statements whatever the batch size (begin, lookup, insert,
//! commit).

use crate::group_commit::{self, AppendRequest, BatchWriter, Lookup, Recorded};
use crate::int::{to_i64, to_u64};
use crate::{AppendResult, Error, event::now_micros};
use sqlx::Row;
use sqlx::sqlite::SqlitePool;

#[derive(Debug)]
pub(super) struct SqliteWriter {
    pool: SqlitePool,
}

impl SqliteWriter {
    pub(super) fn new(pool: SqlitePool) -> Self {
        SqliteWriter { pool }
    }
}

/// One row of `insert.sql`'s JSON array.
type InsertRow<'a> = (
    i64,
    String,
    &'a str,
    i64,
    &'a str,
    i64,
    &'a str,
    String,
    String,
);

impl BatchWriter for SqliteWriter {
    async fn commit(
        &mut self,
        batch: &[AppendRequest],
    ) -> Result<(Vec<Result<AppendResult, Error>>, u64), Error> {
        // IMMEDIATE takes the write lock up front: what the lookup reads
        // cannot change before this transaction commits.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let (streams, ids) = group_commit::keys(batch);
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let found = sqlx::query(include_str!("lookup.sql"))
            .bind(to_json(&streams))
            .bind(to_json(&ids))
            .fetch_all(&mut *tx)
            .await?;
        let mut lookup = Lookup::default();
        for row in &found {
            let kind: i64 = row.try_get(0)?;
            match kind {
                0 => lookup.head = to_u64(row.try_get(3)?),
                1 => {
                    if let Some(version) = row.try_get::<Option<i64>, _>(3)? {
                        lookup.versions.insert(row.try_get(2)?, to_u64(version));
                    }
                }
                _ => {
                    let id: String = row.try_get(1)?;
                    let Ok(id) = id.parse() else { continue };
                    lookup.existing.insert(
                        id,
                        Recorded {
                            stream: row.try_get(2)?,
                            version: to_u64(row.try_get(3)?),
                            position: to_u64(row.try_get(4)?),
                        },
                    );
                }
            }
        }
        let plan = group_commit::plan(batch, lookup, now_micros());
        if plan.rows.is_empty() {
            tx.rollback().await?;
            return Ok((plan.outcomes, plan.head));
        }
        let rows: Vec<InsertRow<'_>> = plan
            .rows
            .iter()
            .map(|r| {
                (
                    to_i64(r.position),
                    r.event.id.to_string(),
                    r.stream,
                    to_i64(r.version),
                    r.event.event_type.as_str(),
                    r.timestamp.timestamp_micros(),
                    r.event.source.as_str(),
                    r.event.data.to_string(),
                    serde_json::to_string(&r.event.metadata).unwrap_or_default(),
                )
            })
            .collect();
        sqlx::query(include_str!("insert.sql"))
            .bind(to_json(&rows))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((plan.outcomes, plan.head))
    }
}

fn to_json(value: &impl serde::Serialize) -> String {
    // Strings, integers and tuples of them always serialize.
    serde_json::to_string(value).unwrap_or_default()
}
