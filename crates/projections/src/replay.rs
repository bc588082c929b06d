//! Replaying the log into read models: catch-up and rebuild. Several
//! models replay together, so the log is read once for all of them; each
//! batch is one transaction per model (its rows and its checkpoint), the
//! models' transactions running side by side (on PostgreSQL each on its
//! own connection; SQLite's writer takes them into one turn).

use crate::fresh_rows::FreshRows;
use crate::projector::{batch_changes, checkpoint_name};
use crate::{Error, ReadModel, reset, sink};
use maos_store::{EventStore, RecordedEvent, Store};
use tokio::task::JoinHandle;

/// Events per transaction in a rebuild: each transaction is one flush, and
/// a bigger batch merges more changes of one row before they are written.
pub const REBUILD_BATCH: usize = 40_000;

/// Resets the tables and checkpoints of `models` and replays the whole log
/// into all of them in one pass. `progress(done, total)` follows along.
/// The tables' secondary indexes are dropped for the replay and built again
/// at the end (recorded in `maos_deferred_indexes`, so a rebuild cut short
/// gets them back when a projector of the table starts).
/// Live projectors of these models should not run meanwhile; if one does,
/// no event is applied twice (each model resumes from its own checkpoint).
pub async fn rebuild(
    store: &Store,
    models: &[&dyn ReadModel],
    progress: impl FnMut(u64, u64),
) -> Result<u64, Error> {
    rebuild_in_batches(store, models, REBUILD_BATCH, progress).await
}

/// [`rebuild`], `batch_size` events per transaction.
pub async fn rebuild_in_batches(
    store: &Store,
    models: &[&dyn ReadModel],
    batch_size: usize,
    progress: impl FnMut(u64, u64),
) -> Result<u64, Error> {
    let names: Vec<String> = models.iter().map(|m| checkpoint_name(m.name())).collect();
    let tables: Vec<&'static str> = models.iter().flat_map(|m| m.tables()).copied().collect();
    reset::reset(store, &names, &tables).await?;
    let to = replay(store, models, batch_size, Tables::Emptied, progress).await?;
    reset::restore_indexes(store, &tables).await?;
    Ok(to)
}

/// Applies everything committed up to now to each model from its own
/// checkpoint, `batch_size` events per transaction; returns the position
/// every model reached. A pipeline: while one batch is written, the next
/// page is read and the batch after it is worked out (changes merged,
/// statements made), assuming the write succeeds; if another run moved a
/// checkpoint meanwhile, that work is dropped and each model resumes from
/// its own checkpoint.
pub(crate) async fn replay(
    store: &Store,
    models: &[&dyn ReadModel],
    batch_size: usize,
    tables: Tables,
    mut progress: impl FnMut(u64, u64),
) -> Result<u64, Error> {
    let names: Vec<String> = models.iter().map(|m| checkpoint_name(m.name())).collect();
    // Rows each model has written so far, while its tables are known to
    // hold nothing else.
    let mut fresh: Vec<Option<FreshRows>> = models
        .iter()
        .map(|_| (tables == Tables::Emptied).then(FreshRows::default))
        .collect();
    // Where each model will be once the batch being written is committed.
    let mut checkpoints = load(store, &names).await?;
    let start = checkpoints.iter().copied().min().unwrap_or(0);
    let head = store.head_position().await?;
    let total = head.saturating_sub(start);
    progress(0, total);
    let mut next = read_ahead(store, start, batch_size);
    let mut writing: Option<Writing> = None;
    loop {
        let batch = (&mut next).await.map_err(stopped)??;
        let last = batch.last().map(|e| e.position);
        let prepared = match last {
            Some(last) => {
                next = read_ahead(store, last, batch_size);
                let at = (names.as_slice(), checkpoints.as_slice());
                Some(prepare(store, models, at, &mut fresh, &batch, last)?)
            }
            None => None,
        };
        drop(batch);
        if let Some(previous) = writing.take() {
            let mut applied = true;
            for write in previous.writes {
                applied &= write.await.map_err(stopped)??;
            }
            if !applied {
                // Another run moved a checkpoint: resume each model from its
                // own, upserting every row (the other run wrote some).
                next.abort();
                fresh.iter_mut().for_each(|rows| *rows = None);
                checkpoints = load(store, &names).await?;
                let from = checkpoints.iter().copied().min().unwrap_or(start);
                next = read_ahead(store, from, batch_size);
                continue;
            }
            progress(previous.to.min(head).saturating_sub(start), total);
        }
        let (Some(prepared), Some(last)) = (prepared, last) else {
            return Ok(checkpoints.iter().copied().min().unwrap_or(start));
        };
        writing = Some(Writing {
            writes: prepared
                .into_iter()
                .map(|model| tokio::spawn(model.write()))
                .collect(),
            to: last,
        });
        for checkpoint in &mut checkpoints {
            *checkpoint = (*checkpoint).max(last);
        }
    }
}

/// A batch's transactions, one per model, each running in its own task.
struct Writing {
    writes: Vec<JoinHandle<Result<bool, Error>>>,
    to: u64,
}

/// The transactions that apply `batch` (ending at `last`) to each model
/// not already past it, one per model: a model's rows move only with its
/// own checkpoint, so the models' writes need not wait for each other.
/// `(names, checkpoints)`: each model's checkpoint name and where it is.
fn prepare(
    store: &Store,
    models: &[&dyn ReadModel],
    (names, checkpoints): (&[String], &[u64]),
    fresh: &mut [Option<FreshRows>],
    batch: &[RecordedEvent],
    last: u64,
) -> Result<Vec<sink::Prepared>, Error> {
    let mut prepared = Vec::new();
    for (((model, name), &checkpoint), fresh) in
        models.iter().zip(names).zip(checkpoints).zip(fresh)
    {
        if checkpoint >= last {
            continue;
        }
        let (mut changes, mut from_log) = (Vec::new(), Vec::new());
        let events = batch.iter().filter(|e| e.position > checkpoint);
        batch_changes(*model, events, &mut changes, &mut from_log)?;
        prepared.push(sink::prepare(
            store,
            (name, checkpoint),
            changes,
            from_log,
            last,
            fresh.as_mut(),
        ));
    }
    Ok(prepared)
}

/// What a replay may assume of the models' tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tables {
    /// Emptied for this replay (a rebuild): a row it has not written yet
    /// is not there.
    Emptied,
    /// Anything (a catch-up).
    AsFound,
}

fn stopped(error: tokio::task::JoinError) -> Error {
    Error::TaskStopped(error.to_string())
}

async fn load(store: &Store, names: &[String]) -> Result<Vec<u64>, Error> {
    let mut checkpoints = Vec::with_capacity(names.len());
    for name in names {
        checkpoints.push(store.load_checkpoint(name).await?);
    }
    Ok(checkpoints)
}

type Page = JoinHandle<Result<Vec<RecordedEvent>, maos_store::Error>>;

fn read_ahead(store: &Store, after: u64, batch_size: usize) -> Page {
    let store = store.clone();
    tokio::spawn(async move { store.read_all_recorded(after, batch_size).await })
}
