//! The PostgreSQL side of group commit, on the writer's own connection. A
//! batch the version cache vouches for takes the fast path (one round
//! trip, `fast_path.rs`); any other batch, or one the database refused
//! there, takes the slow path: one transaction of four round trips (begin +
//! lock, lookup, insert, commit) that decides everything under the lock.

use super::fast_path;
use crate::event::now_micros;
use crate::group_commit::{self, AppendRequest, BatchOutcome, BatchWriter, Lookup, Recorded};
use crate::int::{to_i64, to_u64};
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Row};
use uuid::Uuid;

/// Owns one connection (no pool round trips per batch); reconnects after
/// a failure.
#[derive(Debug)]
pub(super) struct PostgresWriter {
    options: PgConnectOptions,
    connection: Option<PgConnection>,
    versions: fast_path::VersionCache,
}

impl PostgresWriter {
    pub(super) fn new(options: PgConnectOptions) -> Self {
        PostgresWriter {
            options,
            connection: None,
            versions: fast_path::VersionCache::default(),
        }
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
        let connection = match &mut self.connection {
            Some(c) => c,
            None => self
                .connection
                .insert(PgConnection::connect_with(&self.options).await?),
        };
        if let Some(plan) = fast_path::plan(batch, &self.versions) {
            match fast_path::run(connection, &plan, now_micros()).await {
                Ok(Some(committed)) => {
                    self.versions.learn(batch, &committed.answers);
                    return Ok(committed);
                }
                Ok(None) => self.versions.forget(batch),
                Err(error) => {
                    self.connection = None;
                    return Err(error);
                }
            }
        }
        let outcome = write_batch(connection, batch).await;
        if let Ok(committed) = &outcome {
            self.versions.learn(batch, &committed.answers);
        }
        if outcome.is_err() {
            // Leave no transaction open; a connection that can't even roll
            // back is replaced on the next batch.
            let rolled_back = sqlx::raw_sql("ROLLBACK").execute(&mut *connection).await;
            if rolled_back.is_err() {
                self.connection = None;
            }
        }
        outcome
    }
}

async fn write_batch(tx: &mut PgConnection, batch: &[AppendRequest]) -> BatchOutcome {
    let locked = sqlx::raw_sql(include_str!("lock_head.sql"))
        .fetch_all(&mut *tx)
        .await?;
    let head: i64 = match locked.first() {
        Some(row) => row.try_get(0)?,
        None => return Err(sqlx::Error::RowNotFound.into()),
    };
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
        sqlx::raw_sql("ROLLBACK").execute(&mut *tx).await?;
        return Ok(plan.committed);
    }
    let mut c = Columns::default();
    for r in &plan.rows {
        c.positions.push(to_i64(r.position));
        c.ids.push(r.event.id());
        c.streams.push(r.stream.to_owned());
        c.versions.push(to_i64(r.version));
        c.types.push(r.event.event.event_type.clone());
        c.times.push(r.timestamp);
        c.sources.push(r.event.event.source.clone());
        c.data.push(r.event.data.clone());
        c.metadata.push(r.event.metadata.clone());
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
        .bind(to_i64(plan.committed.head))
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql("COMMIT").execute(&mut *tx).await?;
    Ok(plan.committed)
}
