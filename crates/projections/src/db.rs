//! SQL on the store's database, the same on both backends: `$n`
//! parameters in, rows of [`Cell`]s out. Read models query through
//! [`fetch`]; small tables beside them (the gateway's tokens) write through
//! [`execute`], which on SQLite goes through the store's single writer.

use crate::{Cell, Error};
use maos_store::Store;
use sqlx::Row;

/// Runs `sql` with `params` and returns every row's columns as cells
/// (integers, texts — a PostgreSQL `uuid` as its text; NULL as `None` of
/// either kind).
pub async fn fetch(store: &Store, sql: String, params: Vec<Cell>) -> Result<Vec<Vec<Cell>>, Error> {
    match store {
        Store::Sqlite(sqlite) => {
            let rows = sqlite
                .read(move |c| {
                    let params: Vec<rusqlite::types::Value> =
                        params.into_iter().map(crate::sink::sqlite_value).collect();
                    let mut statement = c.prepare_cached(&sql)?;
                    let columns = statement.column_count();
                    let mut rows = statement.query(rusqlite::params_from_iter(params.iter()))?;
                    let mut out = Vec::new();
                    while let Some(row) = rows.next()? {
                        out.push((0..columns).map(|i| sqlite_cell(row, i)).collect());
                    }
                    Ok(out)
                })
                .await?;
            Ok(rows)
        }
        Store::Postgres(postgres) => {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for cell in params {
                query = match cell {
                    Cell::Int(v) => query.bind(v),
                    Cell::Text(v) => query.bind(v),
                };
            }
            let rows = query.fetch_all(postgres.pool()).await?;
            Ok(rows.iter().map(cells).collect())
        }
    }
}

/// Runs one statement that writes; returns the rows it affected. On SQLite
/// it runs on the store's writer thread, in its own savepoint.
pub async fn execute(store: &Store, sql: String, params: Vec<Cell>) -> Result<u64, Error> {
    match store {
        Store::Sqlite(sqlite) => {
            let affected = sqlite
                .write(move |c| {
                    let params: Vec<rusqlite::types::Value> =
                        params.into_iter().map(crate::sink::sqlite_value).collect();
                    let n = c
                        .prepare_cached(&sql)?
                        .execute(rusqlite::params_from_iter(params.iter()))?;
                    Ok(n as u64)
                })
                .await?;
            Ok(affected)
        }
        Store::Postgres(postgres) => {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for cell in params {
                query = match cell {
                    Cell::Int(v) => query.bind(v),
                    Cell::Text(v) => query.bind(v),
                };
            }
            Ok(query.execute(postgres.pool()).await?.rows_affected())
        }
    }
}

/// A column of a SQLite row as a cell (NULL as an empty integer, like the
/// PostgreSQL path).
fn sqlite_cell(row: &rusqlite::Row<'_>, i: usize) -> Cell {
    use rusqlite::types::ValueRef;
    match row.get_ref(i) {
        Ok(ValueRef::Integer(v)) => Cell::Int(Some(v)),
        Ok(ValueRef::Real(v)) => Cell::Int(Some(v as i64)),
        Ok(ValueRef::Text(t)) => Cell::Text(Some(String::from_utf8_lossy(t).into_owned())),
        Ok(ValueRef::Blob(b)) => Cell::Text(Some(String::from_utf8_lossy(b).into_owned())),
        Ok(ValueRef::Null) | Err(_) => Cell::Int(None),
    }
}

fn cells<R>(row: &R) -> Vec<Cell>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<uuid::Uuid>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    (0..row.len())
        .map(|i| {
            if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
                return Cell::Int(v);
            }
            if let Ok(v) = row.try_get::<Option<String>, _>(i) {
                return Cell::Text(v);
            }
            // A `uuid` column (PostgreSQL) reads as its text.
            Cell::Text(
                row.try_get::<Option<uuid::Uuid>, _>(i)
                    .ok()
                    .flatten()
                    .map(|id| id.to_string()),
            )
        })
        .collect()
}

/// The integer in a cell (`None` for NULL or text).
pub fn int(cell: &Cell) -> Option<i64> {
    match cell {
        Cell::Int(v) => *v,
        Cell::Text(_) => None,
    }
}

/// The text in a cell (`None` for NULL or an integer).
pub fn text(cell: &Cell) -> Option<String> {
    match cell {
        Cell::Text(v) => v.clone(),
        Cell::Int(_) => None,
    }
}

/// A checked page size as SQL text, for `LIMIT`. Not a parameter: SQLite
/// plans with a bound `LIMIT`'s value, so every new binding expires the
/// prepared statement and the next run parses and plans it again. A
/// literal costs one cached statement per page size in use.
pub(crate) fn limit_literal(limit: i64) -> String {
    limit.to_string()
}

/// A page size checked against `max`.
pub(crate) fn check_limit(limit: usize, max: usize) -> Result<i64, Error> {
    if limit == 0 || limit > max {
        return Err(Error::InvalidQuery(format!(
            "page size {limit} is outside 1..={max}"
        )));
    }
    Ok(i64::try_from(limit).unwrap_or(i64::MAX))
}

/// `value`, if it is one of `allowed` (`what` names the kind in the error).
pub(crate) fn check_one_of(what: &str, value: &str, allowed: &[&str]) -> Result<(), Error> {
    if allowed.contains(&value) {
        return Ok(());
    }
    Err(Error::InvalidQuery(format!(
        "unknown {what} {value:?}; one of {}",
        allowed.join(", ")
    )))
}

/// A query's `WHERE` conditions with their parameters, numbered `$1…` in
/// the order they are added, and the page size.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    conditions: Vec<String>,
    params: Vec<Cell>,
}

impl Filter {
    /// Adds a condition; `condition` gets the placeholder of `value`.
    pub(crate) fn and(&mut self, value: Cell, condition: impl FnOnce(&str) -> String) {
        self.params.push(value);
        let placeholder = format!("${}", self.params.len());
        self.conditions.push(condition(&placeholder));
    }

    /// Adds a condition on two values; `condition` gets their placeholders.
    pub(crate) fn and_pair(
        &mut self,
        first: Cell,
        second: Cell,
        condition: impl FnOnce(&str, &str) -> String,
    ) {
        self.params.push(first);
        self.params.push(second);
        let (a, b) = (self.params.len() - 1, self.params.len());
        self.conditions
            .push(condition(&format!("${a}"), &format!("${b}")));
    }

    /// The `WHERE` clause (empty without conditions), the page size as a
    /// literal (see [`limit_literal`]), and every parameter.
    pub(crate) fn finish(self, limit: i64) -> (String, String, Vec<Cell>) {
        let filter = if self.conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.conditions.join(" AND "))
        };
        (filter, limit_literal(limit), self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::{Connection, StatementStatus};

    /// A filtered page of each size: the rows a `LIMIT` gives, from one
    /// cached statement per page size that is never parsed again.
    #[test]
    fn a_filtered_page_keeps_its_prepared_statement() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE t (k TEXT, v INTEGER);
             INSERT INTO t VALUES ('a', 1), ('a', 2), ('a', 3), ('b', 4), ('b', 5);",
        )
        .unwrap();
        let page = |key: &str, limit: i64| {
            let mut filter = Filter::default();
            filter.and(Cell::text(key.to_owned()), |p| format!("k = {p}"));
            let (filter, limit, params) = filter.finish(limit);
            let sql = format!("SELECT v FROM t {filter} ORDER BY v LIMIT {limit}");
            let params: Vec<_> = params.into_iter().map(crate::sink::sqlite_value).collect();
            let mut statement = c.prepare_cached(&sql).unwrap();
            let values: Vec<i64> = statement
                .query_map(rusqlite::params_from_iter(params.iter()), |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            (values, sql)
        };
        assert_eq!(page("a", 2).0, [1, 2]);
        assert_eq!(page("b", 2).0, [4, 5]);
        assert_eq!(page("a", 5).0, [1, 2, 3]);
        let (values, sql) = page("b", 2);
        assert_eq!(values, [4, 5]);
        let status = c
            .prepare_cached(&sql)
            .unwrap()
            .get_status(StatementStatus::RePrepare);
        assert_eq!(status, 0, "re-prepared: {sql}");
    }
}
