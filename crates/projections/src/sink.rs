//! Writes a projector's changes and its new checkpoint in one transaction,
//! on whichever backend the store runs on; and resets a read model.

use crate::{Cell, Change, Error};
use maos_store::Store;
use sqlx::postgres::PgConnection;

/// Moves a projection's checkpoint, in the transaction that wrote its rows.
const SQLITE_CHECKPOINT: &str = "INSERT INTO maos_checkpoints (name, position, updated_at) VALUES ($1, $2, $3) \
     ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at";
const POSTGRES_CHECKPOINT: &str = "INSERT INTO maos_checkpoints (name, position, updated_at) VALUES ($1, $2, now()) \
     ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at";

/// Writes `changes` and sets checkpoint `name` to `position`, atomically.
pub(crate) async fn commit(
    store: &Store,
    name: &str,
    changes: Vec<Change>,
    position: u64,
) -> Result<(), Error> {
    let position = i64::try_from(position).unwrap_or(i64::MAX);
    match store {
        Store::Sqlite(sqlite) => {
            let name = name.to_owned();
            sqlite
                .write(move |c| {
                    for change in &changes {
                        let params: Vec<Box<dyn rusqlite::ToSql>> =
                            change.params().into_iter().map(sqlite_value).collect();
                        c.prepare_cached(&change.sql())?
                            .execute(rusqlite::params_from_iter(params.iter()))?;
                    }
                    let now = chrono::Utc::now().timestamp_micros();
                    c.prepare_cached(SQLITE_CHECKPOINT)?
                        .execute(rusqlite::params![name, position, now])?;
                    Ok(())
                })
                .await?;
        }
        Store::Postgres(postgres) => {
            let mut tx = postgres.pool().begin().await?;
            for change in &changes {
                execute_postgres(&mut tx, change).await?;
            }
            sqlx::query(POSTGRES_CHECKPOINT)
                .bind(name)
                .bind(position)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

/// Empties `tables` and removes checkpoint `name`, atomically.
pub(crate) async fn reset(
    store: &Store,
    name: &str,
    tables: &'static [&'static str],
) -> Result<(), Error> {
    match store {
        Store::Sqlite(sqlite) => {
            let name = name.to_owned();
            sqlite
                .write(move |c| {
                    for table in tables {
                        c.execute(&format!("DELETE FROM {table}"), [])?;
                    }
                    c.execute("DELETE FROM maos_checkpoints WHERE name = $1", [name])?;
                    Ok(())
                })
                .await?;
        }
        Store::Postgres(postgres) => {
            let mut tx = postgres.pool().begin().await?;
            for table in tables {
                sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("DELETE FROM maos_checkpoints WHERE name = $1")
                .bind(name)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

async fn execute_postgres(tx: &mut PgConnection, change: &Change) -> Result<(), Error> {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(change.sql()));
    for cell in change.params() {
        query = match cell {
            Cell::Int(v) => query.bind(v),
            Cell::Text(v) => query.bind(v),
        };
    }
    query.execute(tx).await?;
    Ok(())
}

fn sqlite_value(cell: Cell) -> Box<dyn rusqlite::ToSql> {
    match cell {
        Cell::Int(v) => Box::new(v),
        Cell::Text(v) => Box::new(v),
    }
}
