//! Emptying read models for a rebuild, with their secondary indexes set
//! aside while the rows are replayed, and building those indexes again.
//!
//! Indexes set aside are recorded in `maos_deferred_indexes` in the
//! transaction that drops them, and each one's record goes in the
//! transaction that builds it again: a rebuild cut short leaves the rest
//! recorded, and [`restore_indexes`] (run when a projector of the table
//! starts) finishes the job.

use crate::Error;
use maos_store::Store;
use maos_store::postgres::PostgresStore;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// A table's secondary indexes (not those behind its primary key or a
/// unique constraint) with their definitions.
const SQLITE_INDEXES: &str = "SELECT name, sql FROM sqlite_master \
     WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL ORDER BY name";
const POSTGRES_INDEXES: &str = "SELECT i.indexname::text, i.indexdef FROM pg_indexes i \
     WHERE i.schemaname = current_schema() AND i.tablename = $1 \
     AND NOT EXISTS (SELECT 1 FROM pg_constraint c \
         WHERE c.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass) \
     ORDER BY i.indexname";
const DEFER_INDEX: &str =
    "INSERT INTO maos_deferred_indexes (name, table_name, definition) VALUES ($1, $2, $3)";
const DEFERRED_INDEXES: &str =
    "SELECT name, definition FROM maos_deferred_indexes WHERE table_name = $1 ORDER BY name";
/// An index's record, locked by the transaction that builds it; skipped
/// (no row) while another one is building it, and once it is built.
const CLAIM_DEFERRED: &str =
    "SELECT definition FROM maos_deferred_indexes WHERE name = $1 FOR UPDATE SKIP LOCKED";
const UNDEFER_INDEX: &str = "DELETE FROM maos_deferred_indexes WHERE name = $1";

/// Room to sort a million-row index in memory rather than in temporary
/// files (the server's default is 64 MB); for the building transaction
/// only.
const POSTGRES_INDEX_MEMORY: &str = "SET LOCAL maintenance_work_mem = '256MB'";
/// Indexes PostgreSQL builds at once, each on its own connection (each
/// build also takes the server's parallel maintenance workers). Timed in
/// `psql` on two cores, a million audit rows' five indexes: 1.81 s one
/// after another, 1.42 s two at a time.
const POSTGRES_INDEX_BUILDERS: usize = 2;

/// SQLite's sorter while the writer builds indexes: two helper threads,
/// and runs of the default 2 MB cache's size merged, rather than the
/// writer's large cache sorted in one piece. Timed with the `sqlite3`
/// shell on a million audit-shaped rows (random ids): a
/// `(correlation_id, position)` index 1.09 s with a 256 MB cache and no
/// threads, 0.49 s so. In `maos-bench rebuild` (ids shared by a
/// workflow's events) all indexes took 1.95–2.12 s so, 2.07–2.18 s without.
const SQLITE_INDEX_SORTER: &str = "PRAGMA threads = 2; PRAGMA cache_size = -2000";

/// Empties `tables`, removes the checkpoints `names` and sets the tables'
/// secondary indexes aside (see [`restore_indexes`]), atomically.
pub(crate) async fn reset(
    store: &Store,
    names: &[String],
    tables: &[&'static str],
) -> Result<(), Error> {
    let names = names.to_vec();
    let tables = tables.to_vec();
    match store {
        Store::Sqlite(sqlite) => {
            sqlite
                .write(move |c| {
                    for table in &tables {
                        c.execute(&format!("DELETE FROM {table}"), [])?;
                        for (index, definition) in sqlite_pairs(c, SQLITE_INDEXES, table)? {
                            c.prepare_cached(DEFER_INDEX)?
                                .execute((&index, table, &definition))?;
                            c.execute(&format!("DROP INDEX \"{index}\""), [])?;
                        }
                    }
                    for name in &names {
                        c.execute("DELETE FROM maos_checkpoints WHERE name = $1", [name])?;
                    }
                    Ok(())
                })
                .await?;
        }
        Store::Postgres(postgres) => {
            let mut tx = postgres.pool().begin().await?;
            for table in &tables {
                sqlx::query(sqlx::AssertSqlSafe(format!("TRUNCATE {table}")))
                    .execute(&mut *tx)
                    .await?;
                let indexes: Vec<(String, String)> = sqlx::query_as(POSTGRES_INDEXES)
                    .bind(table)
                    .fetch_all(&mut *tx)
                    .await?;
                for (index, definition) in indexes {
                    sqlx::query(DEFER_INDEX)
                        .bind(&index)
                        .bind(table)
                        .bind(&definition)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX \"{index}\"")))
                        .execute(&mut *tx)
                        .await?;
                }
            }
            for name in &names {
                sqlx::query("DELETE FROM maos_checkpoints WHERE name = $1")
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
    }
    Ok(())
}

/// Builds again the indexes of `tables` that a rebuild set aside. Nothing
/// to do (one query per table) when none are.
///
/// On SQLite the writer builds them all in one transaction. On PostgreSQL
/// [`POSTGRES_INDEX_BUILDERS`] connections build them, each index in a
/// transaction of its own that removes its record: one left unbuilt stays
/// recorded, and two runs at once never build one index twice.
pub(crate) async fn restore_indexes(store: &Store, tables: &[&'static str]) -> Result<(), Error> {
    let tables = tables.to_vec();
    match store {
        Store::Sqlite(sqlite) => {
            sqlite
                .write(move |c| {
                    let cache: i64 = c.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
                    let mut deferred = Vec::new();
                    for table in &tables {
                        deferred.extend(sqlite_pairs(c, DEFERRED_INDEXES, table)?);
                    }
                    if deferred.is_empty() {
                        return Ok(());
                    }
                    c.execute_batch(SQLITE_INDEX_SORTER)?;
                    let built = deferred.iter().try_for_each(|(index, definition)| {
                        c.execute(definition, [])?;
                        c.prepare_cached(UNDEFER_INDEX)?.execute([index])?;
                        Ok::<_, rusqlite::Error>(())
                    });
                    // The writer's own settings back, whether or not all were built.
                    c.execute_batch(&format!("PRAGMA threads = 0; PRAGMA cache_size = {cache}"))?;
                    Ok(built?)
                })
                .await?;
        }
        Store::Postgres(postgres) => {
            let mut deferred = VecDeque::new();
            for table in &tables {
                let rows: Vec<(String, String)> = sqlx::query_as(DEFERRED_INDEXES)
                    .bind(table)
                    .fetch_all(postgres.pool())
                    .await?;
                deferred.extend(rows.into_iter().map(|(index, _)| index));
            }
            let builders = POSTGRES_INDEX_BUILDERS.min(deferred.len());
            let queue = Arc::new(Mutex::new(deferred));
            let mut building = tokio::task::JoinSet::new();
            for _ in 0..builders {
                building.spawn(build_postgres_indexes(postgres.clone(), queue.clone()));
            }
            while let Some(built) = building.join_next().await {
                built.map_err(|e| Error::TaskStopped(e.to_string()))??;
            }
        }
    }
    Ok(())
}

/// Builds the indexes named in `queue` one by one, until it is empty.
async fn build_postgres_indexes(
    postgres: PostgresStore,
    queue: Arc<Mutex<VecDeque<String>>>,
) -> Result<(), Error> {
    loop {
        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
        let Some(index) = next else {
            return Ok(());
        };
        let mut tx = postgres.pool().begin().await?;
        let definition: Option<String> = sqlx::query_scalar(CLAIM_DEFERRED)
            .bind(&index)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(definition) = definition else {
            continue;
        };
        sqlx::query(POSTGRES_INDEX_MEMORY).execute(&mut *tx).await?;
        sqlx::query(sqlx::AssertSqlSafe(definition))
            .execute(&mut *tx)
            .await?;
        sqlx::query(UNDEFER_INDEX)
            .bind(&index)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
}

/// The (name, definition) rows `sql` gives for `table`.
fn sqlite_pairs(
    c: &rusqlite::Connection,
    sql: &str,
    table: &str,
) -> Result<Vec<(String, String)>, maos_store::Error> {
    Ok(c.prepare_cached(sql)?
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?)
}
