//! Queries over read models, the same on both backends: SQL with `$n`
//! parameters in, rows of [`Cell`]s out.

use crate::{Cell, Error};
use maos_store::Store;
use sqlx::Row;

/// Runs `sql` with `params` and returns every row's columns as cells
/// (integers, texts; NULL as `None` of either kind).
pub(crate) async fn fetch(
    store: &Store,
    sql: String,
    params: Vec<Cell>,
) -> Result<Vec<Vec<Cell>>, Error> {
    match store {
        Store::Sqlite(sqlite) => {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for cell in params {
                query = match cell {
                    Cell::Int(v) => query.bind(v),
                    Cell::Text(v) => query.bind(v),
                };
            }
            let rows = query.fetch_all(sqlite.readers()).await?;
            Ok(rows.iter().map(cells).collect())
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

fn cells<R>(row: &R) -> Vec<Cell>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    (0..row.len())
        .map(|i| match row.try_get::<Option<i64>, _>(i) {
            Ok(v) => Cell::Int(v),
            Err(_) => Cell::Text(row.try_get::<Option<String>, _>(i).ok().flatten()),
        })
        .collect()
}

/// The integer in a cell (`None` for NULL or text).
pub(crate) fn int(cell: &Cell) -> Option<i64> {
    match cell {
        Cell::Int(v) => *v,
        Cell::Text(_) => None,
    }
}

/// The text in a cell (`None` for NULL or an integer).
pub(crate) fn text(cell: &Cell) -> Option<String> {
    match cell {
        Cell::Text(v) => v.clone(),
        Cell::Int(_) => None,
    }
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
