//! The SQLite writer: a dedicated OS thread with the only connection that
//! writes, making synchronous calls with cached prepared statements.
//!
//! Every write to the file comes through here — appends (group commit), and
//! any other write as a job (checkpoints, snapshots, read models) under a
//! savepoint of its own — gathered into one `BEGIN IMMEDIATE` transaction
//! per turn. Writes that yield (read models) are held back while appends
//! wait (see [`super::held_back`]). A second writing connection would
//! wait on SQLite's file lock, whose busy handler sleeps in steps of up to
//! 100 ms. An async driver would also hand every statement to a worker
//! thread and back, which costs more than the flush; here a turn costs one
//! hop in (the queue) and one out (the replies).

use super::held_back::HeldBack;
use crate::group_commit::{self, AppendRequest, BatchOutcome, Lookup, MAX_BATCH_EVENTS, Recorded};
use crate::int::{to_i64, to_u64};
use crate::recent::Recent;
use crate::{Error, event::now_micros};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::sync::{mpsc, watch};

/// The writer's page cache, in KiB (SQLite's convention: negative = KiB).
const WRITER_CACHE_KIB: i64 = -65_536;
/// Prepared statements the writer keeps.
const WRITER_STATEMENTS: usize = 128;

/// Something to write.
pub(super) enum Request {
    Append(AppendRequest),
    /// Any other write (checkpoints, snapshots, tokens, ...).
    Job(Box<dyn Job>),
    /// A write that yields to appends (read models).
    Yielding(Box<dyn Job>),
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Request::Append(a) => f.debug_tuple("Append").field(a).finish(),
            Request::Job(_) => f.write_str("Job"),
            Request::Yielding(_) => f.write_str("Yielding"),
        }
    }
}

/// A write run on the writer thread inside the turn's transaction.
pub(super) trait Job: Send {
    /// Runs the write under a savepoint; `false` rolls the savepoint back.
    fn run(&mut self, connection: &Connection) -> bool;
    /// Answers the caller once the turn's transaction committed (or not).
    fn finish(self: Box<Self>, committed: Result<(), Error>);
}

/// A closure and the channel its result goes back on.
pub(super) struct ClosureJob<T, F> {
    pub write: Option<F>,
    pub result: Option<Result<T, Error>>,
    pub reply: oneshot::Sender<Result<T, Error>>,
}

impl<T, F> Job for ClosureJob<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T, Error> + Send,
{
    fn run(&mut self, connection: &Connection) -> bool {
        let Some(write) = self.write.take() else {
            return false;
        };
        // A panic in a caller's write must not take the writer (and every
        // other caller) down: it fails this write alone, which the savepoint
        // rolls back.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| write(connection)))
            .unwrap_or_else(|panic| Err(Error::WritePanicked(panic_message(panic.as_ref()))));
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, committed: Result<(), Error>) {
        let answer = match (committed, self.result) {
            (_, Some(Err(e))) => Err(e),
            (Err(e), _) => Err(e),
            (Ok(()), Some(Ok(value))) => Ok(value),
            (Ok(()), None) => Err(Error::WriterStopped),
        };
        let _ = self.reply.send(answer);
    }
}

/// Opens the writer's connection and starts its thread.
pub(super) fn spawn(
    path: &Path,
    busy_timeout: Duration,
    queue: mpsc::Receiver<Request>,
    head: Arc<watch::Sender<u64>>,
    recent: Arc<Recent>,
) -> Result<(), Error> {
    let mut connection = Connection::open(path)?;
    connection.busy_timeout(busy_timeout)?;
    // WAL is a property of the file (set when it was opened by sqlx);
    // FULL makes every commit flush the WAL.
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    // The writer probes three b-trees per event; keep their hot pages in
    // memory rather than re-reading them from the OS on every batch.
    connection.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
    // Every job runs under a savepoint, whose journal holds the original
    // of each page the job changes. With temporary files on disk (SQLite's
    // default), a journal over 64 KiB spills into a new file in the
    // temporary directory, written a page at a time: many of a turn's
    // system calls. In memory it is a copy of each page, dropped at commit.
    connection.pragma_update(None, "temp_store", "MEMORY")?;

    // Read models write rows in a few statement shapes and sizes each
    // (see the projections' sink); all of them stay prepared.
    connection.set_prepared_statement_cache_capacity(WRITER_STATEMENTS);
    std::thread::Builder::new()
        .name("maos-sqlite-writer".to_owned())
        .spawn(move || {
            // SQLite's automatic checkpoints stay inline: on two cores a
            // separate checkpointer thread measured slower (its flushes of
            // the database file compete with the commits').
            run(&mut connection, queue, &head, &recent);
        })
        .map_err(|source| Error::Io {
            path: path.display().to_string(),
            source: Arc::new(source),
        })?;
    Ok(())
}

/// Runs until every handle of the store is dropped.
fn run(
    connection: &mut Connection,
    mut queue: mpsc::Receiver<Request>,
    head: &watch::Sender<u64>,
    recent: &Recent,
) {
    let mut held = HeldBack::default();
    let mut flush = Flush::default();
    loop {
        // With writes held back, the writer doesn't sleep: it takes what
        // has come meanwhile, or else runs the held writes.
        let first = if held.is_empty() {
            match queue.blocking_recv() {
                Some(first) => Some(first),
                None => break,
            }
        } else {
            queue.try_recv().ok()
        };
        let Gathered {
            appends,
            mut jobs,
            yielding,
        } = first.map(|f| gather(f, &mut queue)).unwrap_or_default();
        let now = Instant::now();
        held.hold(yielding, now);
        let others_wait = !appends.is_empty() || !jobs.is_empty();
        // Never an empty turn: with nothing else gathered, every held
        // write is released (and something was gathered or held).
        jobs.extend(held.release(others_wait, now));
        let outcome = flush
            .set(connection, !others_wait)
            .and_then(|()| commit(connection, &appends, &mut jobs));
        let committed = outcome.as_ref().map(|_| ()).map_err(Clone::clone);
        for job in jobs {
            job.finish(committed.clone());
        }
        group_commit::deliver(appends, outcome, head, recent);
    }
}

/// Whether the writer's commits flush the WAL. Only a turn of nothing but
/// read-model writes commits without a flush of its own: those rows and
/// their checkpoint are derived from events already flushed, and they sit
/// in the WAL before anything committed later, so the next flushed commit
/// (any append, any other write, a checkpoint) makes them durable too. A
/// crash before it loses only that read model's last batches, which its
/// projector replays from its checkpoint, committed with them. Everything
/// else, and so every append, commits with `synchronous=FULL`.
#[derive(Debug, Default)]
struct Flush {
    deferred: bool,
}

impl Flush {
    /// Sets the level for the coming turn (a pragma only when it changes).
    fn set(&mut self, connection: &Connection, deferred: bool) -> Result<(), Error> {
        if self.deferred == deferred {
            return Ok(());
        }
        let level = if deferred { "NORMAL" } else { "FULL" };
        connection.pragma_update(None, "synchronous", level)?;
        self.deferred = deferred;
        Ok(())
    }
}

/// The requests one turn took from the queue.
#[derive(Default)]
struct Gathered {
    appends: Vec<AppendRequest>,
    jobs: Vec<Box<dyn Job>>,
    yielding: Vec<Box<dyn Job>>,
}

/// `first` and every request already waiting behind it, up to
/// [`MAX_BATCH_EVENTS`] appended events.
fn gather(first: Request, queue: &mut mpsc::Receiver<Request>) -> Gathered {
    let mut gathered = Gathered::default();
    let mut events = 0;
    let mut next = Some(first);
    while let Some(request) = next.take() {
        match request {
            Request::Append(append) => {
                events += append.events.len();
                gathered.appends.push(append);
            }
            Request::Job(job) => gathered.jobs.push(job),
            Request::Yielding(job) => gathered.yielding.push(job),
        }
        if events < MAX_BATCH_EVENTS {
            next = queue.try_recv().ok();
        }
    }
    gathered
}

/// Decides the appends and writes them and the other requests in one
/// `BEGIN IMMEDIATE` transaction: the write lock is taken before anything
/// is read, so what the lookup finds cannot change before the commit.
fn commit(
    connection: &mut Connection,
    batch: &[AppendRequest],
    jobs: &mut [Box<dyn Job>],
) -> BatchOutcome {
    let mut tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for job in jobs.iter_mut() {
        // A failing job rolls back its own savepoint only.
        let savepoint = tx.savepoint()?;
        if job.run(&savepoint) {
            savepoint.commit()?;
        }
    }
    let lookup = lookup(&tx, batch)?;
    let plan = group_commit::plan(batch, lookup, now_micros());
    if plan.rows.is_empty() {
        tx.commit()?;
        return Ok(plan.committed);
    }
    {
        let mut insert = tx.prepare_cached(include_str!("insert_one.sql"))?;
        for row in &plan.rows {
            insert.execute(params![
                to_i64(row.position),
                row.event.id().to_string(),
                row.stream,
                to_i64(row.version),
                row.event.event.event_type,
                row.timestamp.timestamp_micros(),
                row.event.event.source,
                row.event.data,
                row.event.metadata,
            ])?;
        }
    }
    tx.commit()?;
    Ok(plan.committed)
}

fn lookup(tx: &rusqlite::Transaction<'_>, batch: &[AppendRequest]) -> Result<Lookup, Error> {
    let head: i64 = tx
        .prepare_cached(include_str!("head.sql"))?
        .query_row([], |r| r.get(0))?;
    let mut lookup = Lookup {
        head: to_u64(head),
        ..Lookup::default()
    };
    let (streams, ids) = group_commit::keys(batch);
    let mut version_of = tx.prepare_cached(include_str!("stream_version.sql"))?;
    for stream in streams {
        let version: Option<i64> = version_of.query_row([stream], |r| r.get(0)).optional()?;
        if let Some(version) = version {
            lookup.versions.insert(stream.to_owned(), to_u64(version));
        }
    }
    let mut recorded = tx.prepare_cached(include_str!("recorded.sql"))?;
    for id in ids {
        let found = recorded
            .query_row([id.to_string()], |r| {
                Ok(Recorded {
                    stream: r.get(0)?,
                    version: to_u64(r.get(1)?),
                    position: to_u64(r.get(2)?),
                })
            })
            .optional()?;
        if let Some(found) = found {
            lookup.existing.insert(id, found);
        }
    }
    Ok(lookup)
}

/// The message a panic carried, if it was a string.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned())
}
