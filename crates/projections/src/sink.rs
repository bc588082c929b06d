//! Writes a projector's changes and its new checkpoint in one transaction,
//! on whichever backend the store runs on.

use crate::compact::Compacted;
use crate::fresh_rows::FreshRows;
use crate::log_rows::{LogColumns, LogRows};
use crate::{Cell, Change, Error};
use maos_store::Store;
use maos_store::postgres::PostgresStore;
use maos_store::sqlite::SqliteStore;
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

/// Writes `changes` and the rows of `from_log`, and moves the checkpoint
/// `name` from `from` to `to`, atomically — but only if it is still at
/// `from` inside the transaction. Returns whether it applied: `false`
/// means another run moved it first (nothing was written).
pub(crate) async fn commit(
    store: &Store,
    (name, from): (&str, u64),
    changes: Vec<Change>,
    from_log: Vec<LogRows>,
    to: u64,
) -> Result<bool, Error> {
    prepare(store, (name, from), changes, from_log, to, None)
        .write()
        .await
}

/// A batch's transaction made ready to run: everything but the database
/// calls, so it can be worked out while the previous batch is written.
pub(crate) struct Prepared {
    /// The checkpoint and where it must still be.
    name: String,
    from: i64,
    from_log: Vec<LogRows>,
    to: i64,
    rows: PreparedRows,
}

/// The rows to write, and where.
enum PreparedRows {
    /// Statements and their parameters, so the SQLite writer thread (which
    /// every append waits for) only executes them.
    Sqlite(SqliteStore, SqliteStatements),
    /// Rows not written before (plain inserts; see [`FreshRows`]), and
    /// the rest.
    Postgres(PostgresStore, Vec<Change>, Compacted),
}

/// Makes the transaction [`commit`] runs, without running it. `fresh`:
/// the rows a rebuild has written so far (see [`FreshRows`]).
pub(crate) fn prepare(
    store: &Store,
    (name, from): (&str, u64),
    changes: Vec<Change>,
    from_log: Vec<LogRows>,
    to: u64,
    fresh: Option<&mut FreshRows>,
) -> Prepared {
    let to = i64::try_from(to).unwrap_or(i64::MAX);
    let compacted = crate::compact::compact(changes);
    let rows = match store {
        Store::Sqlite(sqlite) => PreparedRows::Sqlite(sqlite.clone(), sqlite_statements(compacted)),
        Store::Postgres(postgres) => {
            let (inserts, upserts) = match fresh {
                Some(fresh) => fresh.split(compacted),
                None => (Vec::new(), compacted),
            };
            PreparedRows::Postgres(postgres.clone(), inserts, upserts)
        }
    };
    Prepared {
        name: name.to_owned(),
        from: i64::try_from(from).unwrap_or(i64::MAX),
        from_log,
        to,
        rows,
    }
}

impl Prepared {
    /// Runs the transaction; see [`commit`].
    pub(crate) async fn write(self) -> Result<bool, Error> {
        let Prepared {
            name,
            from,
            from_log,
            to,
            rows,
        } = self;
        match rows {
            PreparedRows::Sqlite(sqlite, statements) => {
                // Statement texts made here, not on the writer thread.
                let from_log: Vec<(LogInserts, LogRows)> = from_log
                    .into_iter()
                    .map(|rows| (LogInserts::new(rows.sql.sqlite), rows))
                    .collect();
                // Only this projector waits on its rows: they yield to appends.
                let applied = sqlite
                    .write_yielding(move |c| {
                        let current: i64 = c
                            .prepare_cached(SQLITE_CURRENT)?
                            .query_row([&name], |r| r.get(0))
                            .optional()?
                            .unwrap_or(0);
                        if current != from {
                            return Ok(None);
                        }
                        for (inserts, rows) in &from_log {
                            insert_log_rows(c, inserts, &rows.columns)?;
                        }
                        for (sql, params) in &statements {
                            c.prepare_cached(sql)?
                                .execute(rusqlite::params_from_iter(params))?;
                        }
                        let now = chrono::Utc::now().timestamp_micros();
                        c.prepare_cached(SQLITE_CHECKPOINT)?
                            .execute(rusqlite::params![name, to, now])?;
                        // Handed back to be freed here, not on the writer thread.
                        Ok(Some((statements, from_log)))
                    })
                    .await?;
                Ok(applied.is_some())
            }
            PreparedRows::Postgres(postgres, inserts, upserts) => {
                let mut tx = postgres.pool().begin().await?;
                // The row lock serializes concurrent runs of this projector.
                sqlx::query(POSTGRES_CLAIM)
                    .bind(&name)
                    .execute(&mut *tx)
                    .await?;
                let current: i64 = sqlx::query_scalar(POSTGRES_LOCK)
                    .bind(&name)
                    .fetch_one(&mut *tx)
                    .await?;
                if current != from {
                    return Ok(false);
                }
                for LogRows { sql, columns } in from_log {
                    let data = columns.copy_binary();
                    drop(columns);
                    let mut copy = tx.copy_in_raw(sql.postgres).await?;
                    copy.send(data).await?;
                    copy.finish().await?;
                }
                let inserts = Compacted {
                    changes: inserts,
                    ordered: false,
                };
                write_postgres(&mut tx, inserts, Write::Insert).await?;
                write_postgres(&mut tx, upserts, Write::Upsert).await?;
                sqlx::query(POSTGRES_CHECKPOINT)
                    .bind(&name)
                    .bind(to)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(true)
            }
        }
    }
}

/// Same-shaped changes, to be written with one statement: all of them
/// where no row has two changes, else runs of consecutive ones (in order).
fn groups(compacted: Compacted) -> Vec<Vec<Change>> {
    let mut groups: Vec<Vec<Change>> = Vec::new();
    if compacted.ordered {
        for change in compacted.changes {
            match groups.last_mut() {
                Some(run) if run[0].same_shape(&change) => run.push(change),
                _ => groups.push(vec![change]),
            }
        }
        return groups;
    }
    let mut by_shape: foldhash::HashMap<u64, usize> = foldhash::HashMap::default();
    for change in compacted.changes {
        let shape = change.shape_hash();
        match by_shape.get(&shape) {
            Some(&i) if groups[i][0].same_shape(&change) => groups[i].push(change),
            // Two shapes with one hash: this one gets a group of its own.
            Some(_) => groups.push(vec![change]),
            None => {
                by_shape.insert(shape, groups.len());
                groups.push(vec![change]);
            }
        }
    }
    groups
}

/// Statements and their parameters, ready for the writer.
type SqliteStatements = Vec<(String, Vec<rusqlite::types::Value>)>;

fn sqlite_statements(compacted: Compacted) -> SqliteStatements {
    let mut statements = Vec::new();
    for group in groups(compacted) {
        let mut changes = group.into_iter();
        for rows in statement_sizes(changes.len()) {
            let chunk: Vec<Change> = changes.by_ref().take(rows).collect();
            let Some(first) = chunk.first() else { break };
            let sql = first.sql_for_rows(chunk.len());
            let params = chunk
                .into_iter()
                .flat_map(|change| change.into_params().into_iter().map(sqlite_value))
                .collect();
            statements.push((sql, params));
        }
    }
    statements
}

/// Most rows written by one SQLite statement (fewer statements to step
/// through; 128 rows of the widest model stay far below SQLite's parameter
/// limit).
const ROWS_PER_STATEMENT: usize = 128;

/// How many rows each statement of a group of `n` writes: full statements,
/// then the rest in powers of two. A shape so has at most eight statements,
/// which stay in the writer's statement cache; a statement for each odd
/// remainder would be parsed anew every batch.
fn statement_sizes(n: usize) -> impl Iterator<Item = usize> {
    let full = std::iter::repeat_n(ROWS_PER_STATEMENT, n / ROWS_PER_STATEMENT);
    let rest = n % ROWS_PER_STATEMENT;
    let parts = (0..usize::BITS)
        .rev()
        .map(|bit| 1usize << bit)
        .filter(move |part| rest & part != 0);
    full.chain(parts)
}

/// How [`write_postgres`] writes its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    Upsert,
    /// Rows known not to exist yet (see [`FreshRows`]).
    Insert,
}

/// Writes compacted changes: each group of same-shaped rows as one bulk
/// statement; a lone upsert as its own statement.
async fn write_postgres(
    tx: &mut PgConnection,
    compacted: Compacted,
    write: Write,
) -> Result<(), Error> {
    for group in groups(compacted) {
        if group.len() == 1 && write == Write::Upsert {
            execute_postgres(&mut *tx, &group[0]).await?;
            continue;
        }
        let sql = match write {
            Write::Upsert => group[0].bulk_sql_postgres(),
            Write::Insert => group[0].bulk_insert_sql_postgres(),
        };
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        let columns = group[0].params().len();
        let mut cells: Vec<Vec<Cell>> = vec![Vec::with_capacity(group.len()); columns];
        for change in group {
            for (column, cell) in change.into_params().into_iter().enumerate() {
                cells[column].push(cell);
            }
        }
        for column in cells {
            query = match column[0] {
                Cell::Int(_) => query.bind(
                    column
                        .into_iter()
                        .map(|c| match c {
                            Cell::Int(v) => v,
                            Cell::Text(_) => None,
                        })
                        .collect::<Vec<Option<i64>>>(),
                ),
                Cell::Text(_) => query.bind(
                    column
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

pub(crate) fn sqlite_value(cell: Cell) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match cell {
        Cell::Int(Some(v)) => Value::Integer(v),
        Cell::Text(Some(v)) => Value::Text(v),
        Cell::Int(None) | Cell::Text(None) => Value::Null,
    }
}

/// Rows per statement when log rows are inserted on SQLite.
const LOG_ROWS_PER_INSERT: usize = 64;

/// The two statement shapes log rows are inserted with on SQLite: one of
/// [`LOG_ROWS_PER_INSERT`] rows and one of a single row.
struct LogInserts {
    many: String,
    one: String,
}

impl LogInserts {
    /// From `into`: `INSERT INTO t (…) VALUES`.
    fn new(into: &str) -> Self {
        let statement = |n: usize| format!("{into} {}", vec!["(?,?,?,?,?,?)"; n].join(","));
        LogInserts {
            many: statement(LOG_ROWS_PER_INSERT),
            one: statement(1),
        }
    }
}

/// Inserts log rows, many rows per statement (both shapes kept prepared);
/// ids are bound as text, formatted on the stack.
fn insert_log_rows(
    c: &rusqlite::Connection,
    inserts: &LogInserts,
    columns: &LogColumns,
) -> Result<(), maos_store::Error> {
    let rows = columns.position.len();
    let (many, one) = (&inserts.many, &inserts.one);
    let mut start = 0;
    while start < rows {
        let n = if rows - start >= LOG_ROWS_PER_INSERT {
            LOG_ROWS_PER_INSERT
        } else {
            1
        };
        let mut insert = c.prepare_cached(if n == 1 { one } else { many })?;
        let mut column = 1;
        for row in start..start + n {
            let mut correlation = uuid::Uuid::encode_buffer();
            let mut causation = uuid::Uuid::encode_buffer();
            insert.raw_bind_parameter(column, columns.position[row])?;
            insert.raw_bind_parameter(column + 1, columns.event_type[row].as_str())?;
            insert.raw_bind_parameter(
                column + 2,
                &*columns.correlation_id[row]
                    .hyphenated()
                    .encode_lower(&mut correlation),
            )?;
            insert.raw_bind_parameter(
                column + 3,
                columns.causation_id[row]
                    .as_ref()
                    .map(|id| &*id.hyphenated().encode_lower(&mut causation)),
            )?;
            insert.raw_bind_parameter(column + 4, columns.user_id[row].as_deref())?;
            insert.raw_bind_parameter(column + 5, columns.recorded_at[row])?;
            column += 6;
        }
        insert.raw_execute()?;
        start += n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn statements_cover_every_row_in_few_sizes() {
        for n in [0, 1, 2, 3, 100, 127, 128, 129, 300, 1_000] {
            let sizes: Vec<usize> = super::statement_sizes(n).collect();
            assert_eq!(sizes.iter().sum::<usize>(), n, "{n}: {sizes:?}");
            assert!(
                sizes
                    .iter()
                    .all(|s| s.is_power_of_two() || *s == super::ROWS_PER_STATEMENT),
                "{n}: {sizes:?}"
            );
        }
        assert_eq!(
            super::statement_sizes(300).collect::<Vec<_>>(),
            [128, 128, 32, 8, 4]
        );
    }
}
