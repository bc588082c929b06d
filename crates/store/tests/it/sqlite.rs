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

/// Writes beside the log (read models, checkpoints) run on the writer
/// thread; these are SQLite-only, as PostgreSQL has no single writer.
mod writes {
    use crate::contract::{ForTest, event, stream};
    use maos_store::sqlite::SqliteStore;
    use maos_store::{Error, EventStore, ExpectedVersion};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_is_durable_and_visible_to_readers_when_it_returns() {
        let store = SqliteStore::fresh().await;
        store
            .write(|c| {
                c.execute_batch(
                    "CREATE TABLE board (task TEXT PRIMARY KEY, status TEXT NOT NULL)",
                )?;
                Ok(())
            })
            .await
            .unwrap();
        let inserted = store
            .write(|c| Ok(c.execute("INSERT INTO board VALUES ('build', 'running')", [])?))
            .await
            .unwrap();
        assert_eq!(inserted, 1);
        let status: String = sqlx::query_scalar("SELECT status FROM board WHERE task = 'build'")
            .fetch_one(store.readers())
            .await
            .unwrap();
        assert_eq!(status, "running");
        store.cleanup().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_write_rolls_back_only_itself() {
        let store = SqliteStore::fresh().await;
        store
            .write(|c| Ok(c.execute_batch("CREATE TABLE t (n INTEGER)")?))
            .await
            .unwrap();
        // Sent together, so they are likely to share one writer turn.
        let s = stream();
        let (failed, kept, appended) = tokio::join!(
            store.write(|c| {
                c.execute("INSERT INTO t VALUES (1)", [])?;
                Err::<(), _>(Error::WriterStopped)
            }),
            store.write(|c| Ok(c.execute("INSERT INTO t VALUES (2)", [])?)),
            store.append(&s, ExpectedVersion::NoStream, vec![event(1)]),
        );
        assert!(failed.is_err());
        assert_eq!(kept.unwrap(), 1);
        assert_eq!(appended.unwrap().last_version, 1);
        let rows: Vec<i64> = sqlx::query_scalar("SELECT n FROM t")
            .fetch_all(store.readers())
            .await
            .unwrap();
        assert_eq!(rows, vec![2]);
        store.cleanup().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_write_fails_alone_and_the_writer_lives_on() {
        let store = SqliteStore::fresh().await;
        store
            .write(|c| Ok(c.execute_batch("CREATE TABLE t (n INTEGER)")?))
            .await
            .unwrap();
        let panicked = store
            .write(|c| -> Result<(), Error> {
                c.execute("INSERT INTO t VALUES (1)", [])?;
                panic!("a read model bug");
            })
            .await;
        assert!(
            matches!(panicked, Err(Error::WritePanicked(_))),
            "{panicked:?}"
        );
        // The writer still takes appends and writes.
        let s = stream();
        store
            .append(&s, ExpectedVersion::NoStream, vec![event(1)])
            .await
            .unwrap();
        store
            .write(|c| Ok(c.execute("INSERT INTO t VALUES (2)", [])?))
            .await
            .unwrap();
        let rows: Vec<i64> = sqlx::query_scalar("SELECT n FROM t")
            .fetch_all(store.readers())
            .await
            .unwrap();
        assert_eq!(rows, vec![2]);
        store.cleanup().await;
    }

    type HeldWrite<'a> = std::pin::Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'a>>;

    /// A write that holds the writer from when it starts (the oneshot
    /// says so) until told to go on (the sender); queue it with [`queue`].
    fn hold(
        store: &SqliteStore,
    ) -> (
        HeldWrite<'_>,
        tokio::sync::oneshot::Receiver<()>,
        std::sync::mpsc::Sender<()>,
    ) {
        let (started, writer_held) = tokio::sync::oneshot::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let write = Box::pin(store.write(move |_| {
            let _ = started.send(());
            let _ = released.recv();
            Ok(())
        }));
        (write, writer_held, release)
    }

    /// Polls `future` once: far enough to queue its request with the
    /// writer (the queue has room), not to wait for the answer.
    async fn queue<F: Future + Unpin>(future: &mut F) {
        std::future::poll_fn(|cx| {
            assert!(
                std::pin::Pin::new(&mut *future).poll(cx).is_pending(),
                "answered while the writer was held"
            );
            std::task::Poll::Ready(())
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_yielding_write_lets_the_appends_queued_behind_it_commit_first() {
        let store = SqliteStore::fresh().await;
        // Hold the writer in a write until both requests below are queued.
        let (mut holding, writer_held, release) = hold(&store);
        queue(&mut holding).await;
        writer_held.await.unwrap();
        let mut read_model = Box::pin(store.write_yielding(|c| {
            Ok(c.query_row("SELECT count(*) FROM maos_events", [], |r| {
                r.get::<_, i64>(0)
            })?)
        }));
        queue(&mut read_model).await;
        let s = stream();
        let mut append = Box::pin(store.append(&s, ExpectedVersion::NoStream, vec![event(1)]));
        queue(&mut append).await;
        release.send(()).unwrap();
        holding.await.unwrap();

        // Queued first, the read model's write ran after the append.
        assert_eq!(append.await.unwrap().last_position, 1);
        assert_eq!(read_model.await.unwrap(), 1);
        store.cleanup().await;
    }

    /// The `synchronous` level a write's turn commits with (2 = FULL, 1 =
    /// NORMAL).
    fn flush_level(c: &rusqlite::Connection) -> Result<i64, Error> {
        Ok(c.pragma_query_value(None, "synchronous", |r| r.get(0))?)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn only_a_turn_of_read_model_writes_commits_without_a_flush() {
        let store = SqliteStore::fresh().await;
        assert_eq!(store.write_yielding(flush_level).await.unwrap(), 1);
        assert_eq!(store.write(flush_level).await.unwrap(), 2);
        assert_eq!(store.write_yielding(flush_level).await.unwrap(), 1);
        let s = stream();
        store
            .append(&s, ExpectedVersion::NoStream, vec![event(1)])
            .await
            .unwrap();
        assert_eq!(store.write(flush_level).await.unwrap(), 2);
        store.cleanup().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_read_model_write_that_joins_appends_commits_with_their_flush() {
        let store = SqliteStore::fresh().await;
        let (mut first, first_held, release_first) = hold(&store);
        queue(&mut first).await;
        first_held.await.unwrap();
        let mut read_model = Box::pin(store.write_yielding(flush_level));
        queue(&mut read_model).await;
        // A second write queued with the read model's runs next, and the
        // read model's is held back behind it.
        let (mut second, second_held, release_second) = hold(&store);
        queue(&mut second).await;
        release_first.send(()).unwrap();
        first.await.unwrap();
        second_held.await.unwrap();
        // Held longer than the limit, it goes with the next append's turn.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let s = stream();
        let mut append = Box::pin(store.append(&s, ExpectedVersion::NoStream, vec![event(1)]));
        queue(&mut append).await;
        release_second.send(()).unwrap();
        second.await.unwrap();

        assert_eq!(append.await.unwrap().last_position, 1);
        assert_eq!(read_model.await.unwrap(), 2);
        store.cleanup().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn opening_a_url_creates_missing_directories() {
        let root = std::env::temp_dir().join(format!("maos-test-{}", uuid::Uuid::now_v7()));
        let url = format!("sqlite://{}/a/b/maos.db", root.display());
        let store = maos_store::Store::open(&url).await.unwrap();
        assert_eq!(store.head_position().await.unwrap(), 0);
        assert!(root.join("a/b/maos.db").exists());
        drop(store);
        let _ = std::fs::remove_dir_all(root);
    }
}
