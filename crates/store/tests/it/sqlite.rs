//! The contract suite on SQLite: each test gets its own database file in a
//! fresh temporary directory.

use crate::contract::{ForTest, event_store_contract_suite};
use maos_store::sqlite::SqliteStore;

impl ForTest for SqliteStore {
    async fn fresh() -> Self {
        let dir = std::env::temp_dir().join(format!("maos-test-{}", uuid::Uuid::now_v7()));
        SqliteStore::open_in(&dir)
            .await
            .expect("cannot open a fresh SQLite store")
    }

    async fn writer_handle(&self) -> Self {
        self.clone()
    }

    async fn reopen(&self) -> Self {
        SqliteStore::open(self.path())
            .await
            .expect("cannot reopen the SQLite store")
    }

    async fn cleanup(self) {
        if let Some(dir) = self.path().parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

event_store_contract_suite!(SqliteStore);
