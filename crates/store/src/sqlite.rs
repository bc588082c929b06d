//! The SQLite backend: the embedded default. One database file under the
//! data directory, WAL journal, `synchronous=FULL` (every commit with an
//! append or a plain write is flushed), no server.
//!
//! One process owns the file. Every write (appends with group commit,
//! checkpoints, snapshots) goes through one writer thread on one connection,
//! in `BEGIN IMMEDIATE` transactions; reads use a small pool of reader
//! connections, which WAL lets run beside the writer.
//! Positions are allocated under SQLite's write lock, so they follow commit
//! order even if another process writes the same file.

mod held_back;
mod rows;
mod writer;

use crate::group_commit::{self, QUEUE_CAPACITY};
use crate::int::{to_i64, to_u64};
use crate::recent::Recent;
use crate::{
    AppendResult, Error, EventPayload, EventStore, ExpectedVersion, NewEvent, RecordedEvent,
    Snapshot,
};
use rusqlite::config::DbConfig;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// Name of the database file inside a data directory.
pub const DATABASE_FILE: &str = "maos.db";
/// Reader connections per store.
const READERS: u32 = 4;
/// Synchronous reader connections for [`SqliteStore::read`].
const SYNC_READERS: usize = 4;
/// How long a statement waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The embedded event store. Cheap to clone; clones share one writer.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    readers: SqlitePool,
    /// Idle synchronous reader connections for [`SqliteStore::read`].
    sync_readers: std::sync::Mutex<Vec<rusqlite::Connection>>,
    /// At most [`SYNC_READERS`] reads at once: a read waits for a pooled
    /// connection rather than opening (and re-preparing) a new one.
    sync_permits: tokio::sync::Semaphore,
    /// Every write goes to the writer thread.
    queue: mpsc::Sender<writer::Request>,
    head: watch::Receiver<u64>,
    /// What the writer committed last, for live followers.
    recent: Arc<Recent>,
}

/// A connection that may only read.
fn open_sync_reader(path: &Path) -> Result<rusqlite::Connection, Error> {
    let connection = rusqlite::Connection::open(path)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.pragma_update(None, "query_only", true)?;
    // Plans don't look at bound values (SQLite's query planner stability
    // guarantee). Otherwise a statement whose plan looked at one, such as
    // a `LIKE` pattern, is parsed and planned again on every new binding;
    // the LIKE prefix range such a plan may use needs case-sensitive LIKE
    // or a NOCASE index, and neither is set here.
    connection.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    connection.set_prepared_statement_cache_capacity(32);
    Ok(connection)
}

impl SqliteStore {
    /// Opens (creating if needed) the store in `data_dir/maos.db`.
    pub async fn open_in(data_dir: impl AsRef<Path>) -> Result<Self, Error> {
        let dir = data_dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.display().to_string(),
            source: Arc::new(source),
        })?;
        Self::open(dir.join(DATABASE_FILE)).await
    }

    /// Opens (creating it and its directory if needed) the store in the
    /// database file `path`, and brings its schema up to date.
    #[tracing::instrument(name = "store.sqlite.open", skip_all, fields(path = %path.as_ref().display()), err)]
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                path: dir.display().to_string(),
                source: Arc::new(source),
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("../../migrations/sqlite")
            .run(&writer)
            .await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options.read_only(true))
            .await?;
        let head: i64 = sqlx::query_scalar(include_str!("sqlite/head.sql"))
            .fetch_one(&readers)
            .await?;
        let (head_tx, head_rx) = watch::channel(to_u64(head));
        let (queue, requests) = mpsc::channel(QUEUE_CAPACITY);
        let recent = Arc::new(Recent::default());
        writer::spawn(
            &path,
            BUSY_TIMEOUT,
            requests,
            Arc::new(head_tx),
            recent.clone(),
        )?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path,
                readers,
                sync_readers: std::sync::Mutex::new(Vec::new()),
                sync_permits: tokio::sync::Semaphore::new(SYNC_READERS),
                queue,
                head: head_rx,
                recent,
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `write` on the store's writer thread, inside the transaction of
    /// its next turn, under a savepoint of its own: an error rolls back only
    /// this write. Returns once that transaction committed, so `Ok` means
    /// durable. Every write to the database file goes through here (or
    /// `append`): a second writing connection would wait on SQLite's lock.
    /// Keep writes short; appends wait for them.
    pub async fn write<T, F>(&self, write: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<T, Error> + Send + 'static,
    {
        self.run_job(write, writer::Request::Job).await
    }

    /// [`SqliteStore::write`] for writes nobody but their caller waits on
    /// (read models): it yields to appends, running in a turn without
    /// them unless it has waited a couple of milliseconds already, so
    /// appends seldom wait for its rows.
    ///
    /// A turn of nothing but such writes commits without a flush of its
    /// own (`synchronous=NORMAL`): its rows are in the WAL before anything
    /// committed later, so the next flushed commit makes them durable too.
    /// Use it only for what can be rebuilt from the log, with the position
    /// it was built to written in the same write (a projector's
    /// checkpoint): a crash may take back its last writes, never part of
    /// one.
    pub async fn write_yielding<T, F>(&self, write: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<T, Error> + Send + 'static,
    {
        self.run_job(write, writer::Request::Yielding).await
    }

    async fn run_job<T, F>(
        &self,
        write: F,
        request: fn(Box<dyn writer::Job>) -> writer::Request,
    ) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<T, Error> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = writer::ClosureJob {
            write: Some(write),
            result: None,
            reply,
        };
        self.enqueue(request(Box::new(job))).await?;
        answer.await.map_err(|_| Error::WriterStopped)?
    }

    /// The pool of read-only connections, for queries beside the log.
    pub fn readers(&self) -> &SqlitePool {
        &self.inner.readers
    }

    /// Runs `read` on a read-only connection on a blocking thread: one hop
    /// for the whole query, rows read synchronously (an async driver hops
    /// threads per row). For read-model queries. Connections are pooled.
    pub async fn read<T, F>(&self, read: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<T, Error> + Send + 'static,
    {
        let permit = self
            .inner
            .sync_permits
            .acquire()
            .await
            .map_err(|_| Error::WriterStopped)?;
        let inner = self.inner.clone();
        let answer = tokio::task::spawn_blocking(move || {
            let idle = inner
                .sync_readers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop();
            let connection = match idle {
                Some(c) => c,
                None => open_sync_reader(&inner.path)?,
            };
            let result = read(&connection);
            inner
                .sync_readers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(connection);
            result
        })
        .await
        .map_err(|e| Error::ReadPanicked(e.to_string()))?;
        drop(permit);
        answer
    }

    async fn enqueue(&self, request: writer::Request) -> Result<(), Error> {
        self.inner
            .queue
            .send(request)
            .await
            .map_err(|_| Error::WriterStopped)
    }
}

impl EventStore for SqliteStore {
    #[tracing::instrument(name = "store.append", skip_all, fields(backend = "sqlite", stream, events = events.len()), err)]
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, Error> {
        let (request, answer) = group_commit::prepare(stream, expected, events)?;
        self.enqueue(writer::Request::Append(request)).await?;
        answer.await.map_err(|_| Error::WriterStopped)?
    }

    async fn read_stream_recorded(
        &self,
        stream: &str,
        after_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        let stream = stream.to_owned();
        self.read(move |c| {
            let params = (stream, to_i64(after_version));
            let sql = include_str!("sqlite/read_stream.sql");
            rows::query(c, sql, params, limit, rows::decode_event)
        })
        .await
    }

    fn read_recent(&self, after_position: u64, limit: usize) -> Option<Vec<RecordedEvent>> {
        self.inner.recent.after(after_position, limit)
    }

    async fn read_all_recorded(
        &self,
        after_position: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        self.read(move |c| {
            let params = (to_i64(after_position),);
            let sql = include_str!("sqlite/read_all.sql");
            rows::query(c, sql, params, limit, rows::decode_event)
        })
        .await
    }

    async fn read_all_payloads(
        &self,
        after_position: u64,
        limit: usize,
    ) -> Result<Vec<EventPayload>, Error> {
        self.read(move |c| {
            let params = (to_i64(after_position),);
            let sql = include_str!("sqlite/read_all_payloads.sql");
            rows::query(c, sql, params, limit, rows::decode_payload)
        })
        .await
    }

    async fn head_position(&self) -> Result<u64, Error> {
        let head: i64 = sqlx::query_scalar(include_str!("sqlite/head.sql"))
            .fetch_one(&self.inner.readers)
            .await?;
        Ok(to_u64(head))
    }

    async fn stream_version(&self, stream: &str) -> Result<Option<u64>, Error> {
        let version: Option<i64> = sqlx::query_scalar(include_str!("sqlite/stream_version.sql"))
            .bind(stream)
            .fetch_optional(&self.inner.readers)
            .await?;
        Ok(version.map(to_u64))
    }

    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<(), Error> {
        maos_domain::StreamName::parse(&snapshot.stream)?;
        // Rendered here: a large workflow's state takes milliseconds, which
        // every append queued behind the writer would wait for.
        let state = snapshot.state.to_string();
        self.write(move |c| {
            c.prepare_cached(include_str!("sqlite/save_snapshot.sql"))?
                .execute(rusqlite::params![
                    snapshot.stream,
                    to_i64(snapshot.version),
                    state,
                    snapshot.taken_at.timestamp_micros(),
                ])?;
            Ok(())
        })
        .await
    }

    async fn load_snapshot(&self, stream: &str) -> Result<Option<Snapshot>, Error> {
        let row = sqlx::query(include_str!("sqlite/load_snapshot.sql"))
            .bind(stream)
            .fetch_optional(&self.inner.readers)
            .await?;
        row.as_ref().map(rows::decode_snapshot).transpose()
    }

    async fn load_checkpoint(&self, name: &str) -> Result<u64, Error> {
        let position: Option<i64> = sqlx::query_scalar(include_str!("sqlite/load_checkpoint.sql"))
            .bind(name)
            .fetch_optional(&self.inner.readers)
            .await?;
        Ok(position.map_or(0, to_u64))
    }

    async fn save_checkpoint(&self, name: &str, position: u64) -> Result<(), Error> {
        let name = name.to_owned();
        self.write(move |c| {
            c.prepare_cached(include_str!("sqlite/save_checkpoint.sql"))?
                .execute(rusqlite::params![
                    name,
                    to_i64(position),
                    chrono::Utc::now().timestamp_micros()
                ])?;
            Ok(())
        })
        .await
    }

    fn head_watch(&self) -> watch::Receiver<u64> {
        self.inner.head.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::StatementStatus;

    /// A query with a bound `LIKE` pattern (as audit queries filter event
    /// types) runs with new patterns from one prepared statement.
    #[test]
    fn a_readers_statement_is_not_planned_again_for_a_new_pattern() {
        let path = std::env::temp_dir().join(format!("maos-reader-{}.db", uuid::Uuid::now_v7()));
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(
                "CREATE TABLE t (k TEXT);
                 INSERT INTO t VALUES ('workflows.task.ready'), ('agents.agent.registered');",
            )
            .unwrap();
        let reader = open_sync_reader(&path).unwrap();
        let sql = "SELECT count(*) FROM t WHERE k LIKE ?1 ESCAPE '\\'";
        let count = |pattern: &str| -> i64 {
            let mut statement = reader.prepare_cached(sql).unwrap();
            statement.query_row([pattern], |r| r.get(0)).unwrap()
        };
        let counts = [count("workflows.%"), count("agents.%"), count("%.%")];
        let reprepared = reader
            .prepare_cached(sql)
            .unwrap()
            .get_status(StatementStatus::RePrepare);
        drop(reader);
        let _ = std::fs::remove_file(&path);
        assert_eq!(counts, [1, 1, 2]);
        assert_eq!(reprepared, 0);
    }
}
