//! The PostgreSQL side of group commit: one transaction per batch, five
//! round trips whatever the batch size (begin, lock, lookup, insert,
//! commit).

use crate::group_commit::{self, AppendRequest, BatchOutcome, BatchWriter, Lookup, Recorded};
use crate::int::{to_i64, to_u64};
use crate::event::now_micros;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::postgres::PgPool;
use uuid::Uuid;

#[derive(Debug)]
pub(super) struct PostgresWriter {
    pool: PgPool,
}

impl PostgresWriter {
    pub(super) fn new(pool: PgPool) -> Self {
        PostgresWriter { pool }
    }
}

/// `insert.sql`'s column arrays.
#[derive(Default)]
struct Columns {
    positions: Vec<i64>,
    ids: Vec<Uuid>,
    streams: Vec<String>,
    versions: Vec<i64>,
    types: Vec<String>,
    times: Vec<DateTime<Utc>>,
    sources: Vec<String>,
    data: Vec<String>,
    metadata: Vec<String>,
}

impl BatchWriter for PostgresWriter {
    async fn commit(&mut self, batch: &[AppendRequest]) -> BatchOutcome {
        let mut tx = self.pool.begin().await?;
        let head: i64 = sqlx::query_scalar(include_str!("lock_head.sql"))
            .fetch_one(&mut *tx)
            .await?;
        let (streams, ids) = group_commit::keys(batch);
        let streams: Vec<String> = streams.into_iter().map(str::to_owned).collect();
        let found = sqlx::query(include_str!("lookup.sql"))
            .bind(&streams)
            .bind(&ids)
            .fetch_all(&mut *tx)
            .await?;
        let mut lookup = Lookup {
            head: to_u64(head),
            ..Lookup::default()
        };
        for row in &found {
            let kind: i16 = row.try_get(0)?;
            if kind == 1 {
                if let Some(version) = row.try_get::<Option<i64>, _>(3)? {
                    lookup.versions.insert(row.try_get(2)?, to_u64(version));
                }
            } else {
                lookup.existing.insert(
                    row.try_get(1)?,
                    Recorded {
                        stream: row.try_get(2)?,
                        version: to_u64(row.try_get(3)?),
                        position: to_u64(row.try_get(4)?),
                    },
                );
            }
        }
        let plan = group_commit::plan(batch, lookup, now_micros());
        if plan.rows.is_empty() {
            tx.rollback().await?;
            return Ok((plan.outcomes, plan.head));
        }
        let mut c = Columns::default();
        for r in &plan.rows {
            c.positions.push(to_i64(r.position));
            c.ids.push(r.event.id);
            c.streams.push(r.stream.to_owned());
            c.versions.push(to_i64(r.version));
            c.types.push(r.event.event_type.clone());
            c.times.push(r.timestamp);
            c.sources.push(r.event.source.clone());
            c.data.push(r.event.data.to_string());
            c.metadata
                .push(serde_json::to_string(&r.event.metadata).unwrap_or_default());
        }
        sqlx::query(include_str!("insert.sql"))
            .bind(c.positions)
            .bind(c.ids)
            .bind(c.streams)
            .bind(c.versions)
            .bind(c.types)
            .bind(c.times)
            .bind(c.sources)
            .bind(c.data)
            .bind(c.metadata)
            .bind(to_i64(plan.head))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((plan.outcomes, plan.head))
    }
}
