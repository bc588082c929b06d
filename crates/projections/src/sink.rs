//! Writes a projector's changes and its new checkpoint in one transaction,
//! on whichever backend the store runs on; and resets a read model.

use crate::{Cell, Change, Error};
use maos_store::Store;
use rusqlite::OptionalExtension;
use sqlx::postgres::PgConnection;

/// A projection's checkpoint, read in the transaction that will move it.
const SQLITE_CURRENT: &str = "SELECT position FROM maos_checkpoints WHERE name = $1";
const POSTGRES_CLAIM: &str = "INSERT INTO maos_checkpoints (name, position, updated_at) VALUES ($1, 0, now()) \
     ON CONFLICT (name) DO NOTHING";
const POSTGRES_LOCK: &str = "SELECT position FROM maos_checkpoints WHERE name = $1 FOR UPDATE";

/// Moves a projection's checkpoint, in the transaction that wrote its rows.
const SQLITE_CHECKPOINT: &str = "INSERT INTO maos_checkpoints (name, position, updated_at) VALUES ($1, $2, $3) \
     ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at";
const POSTGRES_CHECKPOINT: &str = "INSERT INTO maos_checkpoints (name, position, updated_at) VALUES ($1, $2, now()) \
     ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at";

/// Writes `changes` and moves checkpoint `name` from `from` to `to`,
/// atomically — but only if the checkpoint is still at `from` inside the
/// transaction. Returns whether it applied: `false` means another run of
/// this projector moved the checkpoint first (nothing was written).
pub(crate) async fn commit(
    store: &Store,
    name: &str,
    changes: Vec<Change>,
    from: u64,
    to: u64,
) -> Result<bool, Error> {
    let from = i64::try_from(from).unwrap_or(i64::MAX);
    let to = i64::try_from(to).unwrap_or(i64::MAX);
    match store {
        Store::Sqlite(sqlite) => {
            let name = name.to_owned();
            let applied = sqlite
                .write(move |c| {
                    let current: i64 = c
                        .prepare_cached(SQLITE_CURRENT)?
                        .query_row([&name], |r| r.get(0))
                        .optional()?
                        .unwrap_or(0);
                    if current != from {
                        return Ok(false);
                    }
                    for change in &crate::compact::compact(changes) {
                        let params: Vec<Box<dyn rusqlite::ToSql>> =
                            change.params().into_iter().map(sqlite_value).collect();
                        c.prepare_cached(&change.sql())?
                            .execute(rusqlite::params_from_iter(params.iter()))?;
                    }
                    let now = chrono::Utc::now().timestamp_micros();
                    c.prepare_cached(SQLITE_CHECKPOINT)?
                        .execute(rusqlite::params![name, to, now])?;
                    Ok(true)
                })
                .await?;
            Ok(applied)
        }
        Store::Postgres(postgres) => {
            let mut tx = postgres.pool().begin().await?;
            // The row lock serializes concurrent runs of this projector.
            sqlx::query(POSTGRES_CLAIM)
                .bind(name)
                .execute(&mut *tx)
                .await?;
            let current: i64 = sqlx::query_scalar(POSTGRES_LOCK)
                .bind(name)
                .fetch_one(&mut *tx)
                .await?;
            if current != from {
                return Ok(false);
            }
            write_postgres(&mut tx, crate::compact::compact(changes)).await?;
            sqlx::query(POSTGRES_CHECKPOINT)
                .bind(name)
                .bind(to)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        }
    }
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

/// Writes compacted changes: each group of same-shaped rows as one bulk
/// statement; in order, one by one, if a row has both kinds of change.
async fn write_postgres(tx: &mut PgConnection, changes: Vec<Change>) -> Result<(), Error> {
    let mut rows = std::collections::HashSet::new();
    let mixed = changes.iter().any(|c| {
        let (table, key) = match c {
            Change::Upsert { table, key, .. } | Change::Add { table, key, .. } => (table, key),
        };
        !rows.insert((*table, key.clone()))
    });
    if mixed {
        for change in &changes {
            execute_postgres(&mut *tx, change).await?;
        }
        return Ok(());
    }
    let mut groups: Vec<Vec<Change>> = Vec::new();
    let mut by_signature: std::collections::HashMap<_, usize> = std::collections::HashMap::new();
    for change in changes {
        let signature = change.signature();
        match by_signature.get(&signature) {
            Some(&i) => groups[i].push(change),
            None => {
                by_signature.insert(signature, groups.len());
                groups.push(vec![change]);
            }
        }
    }
    for group in groups {
        if group.len() == 1 {
            execute_postgres(&mut *tx, &group[0]).await?;
            continue;
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(group[0].bulk_sql_postgres()));
        let columns = group[0].params().len();
        for column in 0..columns {
            let cells: Vec<Cell> = group.iter().map(|c| c.params()[column].clone()).collect();
            query = match cells[0] {
                Cell::Int(_) => query.bind(
                    cells
                        .iter()
                        .map(|c| match c {
                            Cell::Int(v) => *v,
                            Cell::Text(_) => None,
                        })
                        .collect::<Vec<Option<i64>>>(),
                ),
                Cell::Text(_) => query.bind(
                    cells
                        .into_iter()
                        .map(|c| match c {
                            Cell::Text(v) => v,
                            Cell::Int(_) => None,
                        })
                        .collect::<Vec<Option<String>>>(),
                ),
            };
        }
        query.execute(&mut *tx).await?;
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

pub(crate) fn sqlite_value(cell: Cell) -> Box<dyn rusqlite::ToSql> {
    match cell {
        Cell::Int(v) => Box::new(v),
        Cell::Text(v) => Box::new(v),
    }
}
