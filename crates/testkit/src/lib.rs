//! Fresh event stores for tests: a new SQLite file, or a new PostgreSQL
//! database on the server in `MAOS_TEST_POSTGRES_URL` (default: the local
//! server), and their removal afterwards.

use maos_store::Store;
use uuid::Uuid;

/// A store on a new SQLite file in a new temporary directory.
pub async fn sqlite() -> Store {
    let dir = std::env::temp_dir().join(format!("maos-test-{}", Uuid::now_v7()));
    Store::open(&sqlite_url(&dir))
        .await
        .expect("cannot open SQLite")
}

/// The URL of the store file in `dir`.
pub fn sqlite_url(dir: &std::path::Path) -> String {
    format!("sqlite://{}/maos.db", dir.display())
}

/// The PostgreSQL server tests use.
pub fn server_url() -> String {
    std::env::var("MAOS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The URL of `database` on the test server.
pub fn database_url(database: &str) -> String {
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

/// Creates an empty database named `maos_test_<uuid>` and returns its URL.
pub async fn postgres_database() -> String {
    let database = format!("maos_test_{}", Uuid::now_v7().simple());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(&mut admin().await)
        .await
        .expect("cannot create a test database");
    database_url(&database)
}

/// A store on a new PostgreSQL database.
pub async fn postgres() -> Store {
    Store::open(&postgres_database().await)
        .await
        .expect("cannot open PostgreSQL")
}

/// Removes the store's file or database.
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
            drop_database(&database).await;
        }
    }
}

/// Drops a test database, closing its connections.
pub async fn drop_database(database: &str) {
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
    )))
    .execute(&mut admin().await)
    .await;
}

/// Processes of group `pgid` that are still alive (zombies excluded).
pub fn live_group_members(pgid: i32) -> Vec<i32> {
    let mut alive = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp …; comm may hold spaces, so split after ')'.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[2] == pgid.to_string() && fields[0] != "Z" && fields[0] != "X"
        {
            alive.push(pid);
        }
    }
    alive
}

/// The pid a task's shell writes to `path` (`echo $$ > path`), once it is
/// all there: the shell makes the file before it writes to it, so a file
/// that exists may still be empty. Panics after 30 s without one.
pub async fn written_pid(path: &std::path::Path) -> i32 {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let written = std::fs::read_to_string(path).unwrap_or_default();
        if written.ends_with('\n')
            && let Ok(pid) = written.trim().parse()
        {
            return pid;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no pid written to {}",
            path.display()
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
