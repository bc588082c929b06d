//! The contract suite on PostgreSQL: each test gets its own database,
//! created on the server at `MAOS_TEST_POSTGRES_URL` (default: the local
//! server) and dropped when the test passes. An unreachable server fails
//! the tests; they are never skipped.

use crate::contract::{ForTest, event_store_contract_suite};
use maos_store::postgres::PostgresStore;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

fn server_url() -> String {
    std::env::var("MAOS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn database_url(database: &str) -> String {
    let server = server_url();
    let base = server
        .rsplit_once('/')
        .map_or(server.as_str(), |(base, _)| base);
    format!("{base}/{database}")
}

async fn admin() -> PgConnection {
    let url = server_url();
    PgConnection::connect(&url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL at {url} is unreachable ({e}); run scripts/services or set MAOS_TEST_POSTGRES_URL")
    })
}

fn database_of(store: &PostgresStore) -> String {
    let options = store.pool().connect_options();
    options.get_database().unwrap_or_default().to_owned()
}

impl ForTest for PostgresStore {
    async fn fresh() -> Self {
        let database = format!("maos_test_{}", uuid::Uuid::now_v7().simple());
        let mut admin = admin().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
            .execute(&mut admin)
            .await
            .expect("cannot create a test database");
        PostgresStore::connect(&database_url(&database))
            .await
            .expect("cannot connect to the test database")
    }

    async fn writer_handle(&self) -> Self {
        self.reopen().await
    }

    async fn reopen(&self) -> Self {
        PostgresStore::connect(&database_url(&database_of(self)))
            .await
            .expect("cannot reconnect to the test database")
    }

    async fn cleanup(self) {
        let database = database_of(&self);
        self.pool().close().await;
        drop(self);
        let mut admin = admin().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await
        .expect("cannot drop the test database");
    }
}

event_store_contract_suite!(PostgresStore);
