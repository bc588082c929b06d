//! Fresh stores per test, and a store's rows read back for comparison.

use maos_store::Store;
use uuid::Uuid;

pub async fn sqlite() -> Store {
    let dir = std::env::temp_dir().join(format!("maos-proj-test-{}", Uuid::now_v7()));
    Store::open(&format!("sqlite://{}/maos.db", dir.display()))
        .await
        .expect("cannot open SQLite")
}

fn server_url() -> String {
    std::env::var("MAOS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn database_url(database: &str) -> String {
    let server = server_url();
    let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
    format!("{base}/{database}")
}

async fn admin() -> sqlx::PgConnection {
    use sqlx::Connection;
    let url = server_url();
    sqlx::PgConnection::connect(&url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL at {url} is unreachable ({e}); run scripts/services")
    })
}

pub async fn postgres() -> Store {
    let database = format!("maos_test_{}", Uuid::now_v7().simple());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(&mut admin().await)
        .await
        .unwrap();
    Store::open(&database_url(&database))
        .await
        .expect("cannot open PostgreSQL")
}

pub async fn cleanup(store: Store) {
    match store {
        Store::Sqlite(s) => {
            if let Some(dir) = s.path().parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
        Store::Postgres(p) => {
            let database = p
                .pool()
                .connect_options()
                .get_database()
                .unwrap_or_default()
                .to_owned();
            p.pool().close().await;
            drop(p);
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
            )))
            .execute(&mut admin().await)
            .await;
        }
    }
}

/// Every row of `table`, each as text, in key order: what a read model
/// holds, comparable across runs.
pub async fn rows(store: &Store, table: &str, order: &str) -> Vec<String> {
    let sql = format!("SELECT * FROM {table} ORDER BY {order}");
    match store {
        Store::Sqlite(s) => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(s.readers())
                .await
                .unwrap();
            rows.iter().map(|r| format!("{:?}", row_text(r))).collect()
        }
        Store::Postgres(p) => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(p.pool())
                .await
                .unwrap();
            rows.iter().map(|r| format!("{:?}", row_text(r))).collect()
        }
    }
}

/// A row's columns as text, whatever the backend.
fn row_text<R>(row: &R) -> Vec<String>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    (0..row.len())
        .map(|i| {
            row.try_get::<Option<i64>, _>(i)
                .map(|v| format!("{v:?}"))
                .or_else(|_| {
                    row.try_get::<Option<String>, _>(i)
                        .map(|v| format!("{v:?}"))
                })
                .unwrap_or_default()
        })
        .collect()
}
