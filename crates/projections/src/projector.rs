//! The projector runtime: one task per read model, resuming from its
//! checkpoint (`projection.<name>`), applying the log in position order
//! (catch-up, then live) and writing rows and checkpoint in one transaction.
//! A failure is retried with back-off and stops only this projector.

use crate::log_rows::{LogColumns, LogRows};
use crate::{Change, Error, replay, reset, sink};
use maos_store::{EventStore, RecordedEvent, Store, Subscription};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, watch};

/// A read model: a pure function from events to row changes.
pub trait ReadModel: Send + Sync + 'static {
    /// Stable name; the checkpoint is `projection.<name>`.
    fn name(&self) -> &'static str;
    /// The tables it owns (emptied by a rebuild).
    fn tables(&self) -> &'static [&'static str];
    /// The row changes one event causes; an error for an event that does
    /// not decode (the batch is retried; nothing of it is written). A model
    /// whose rows are the log's own columns ([`ReadModel::rows_from_log`])
    /// has none.
    fn changes(&self, event: &RecordedEvent, out: &mut Vec<Change>) -> Result<(), Error> {
        let _ = (event, out);
        Ok(())
    }
    /// For a model whose rows are each one event's stored columns and
    /// metadata ids: the statements that insert a batch's rows from those
    /// columns, without a [`Change`] per row.
    fn rows_from_log(&self) -> Option<&'static FromLog> {
        None
    }
}

/// Rows that are each one event's own columns (position, type, correlation,
/// causation, user, time), inserted in the transaction that moves the
/// model's checkpoint from the batch already read: copying them from the
/// log in SQL would make the database parse every event's JSON metadata
/// again, which on SQLite is the single writer's time. Statements only insert: rows move
/// with the checkpoint in one transaction, so none of the batch can be
/// there yet (one that is fails the batch, loudly; `ON CONFLICT` would
/// cost PostgreSQL a third of the statement).
#[derive(Debug)]
pub struct FromLog {
    /// `INSERT INTO t (the six columns, in that order) VALUES`, to which
    /// the sink adds one `(?,?,?,?,?,?)` per row (ids bound as text).
    pub sqlite: &'static str,
    /// `COPY t (the six columns, in that order) FROM STDIN (FORMAT
    /// binary)`, columns of types `int8` (position), `text` (type), `uuid`
    /// (correlation id), `uuid` (causation id), `text` (user id), `int8`
    /// (recorded at, µs since the epoch).
    pub postgres: &'static str,
}

/// How a projector batches and backs off.
#[derive(Debug, Clone)]
pub struct ProjectorConfig {
    /// Most events per transaction.
    pub batch_size: usize,
    /// Least time between two of the live follower's transactions. Every
    /// transaction rewrites the pages its tables' and indexes' newest rows
    /// sit in, however few rows it adds, so under a steady stream of
    /// events a batch that waits to be gathered costs the store's writer
    /// far less than many small ones. A batch after a quiet spell longer
    /// than this is written at once: the wait only adds lag when writes
    /// come faster than this.
    pub min_commit_interval: Duration,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for ProjectorConfig {
    fn default() -> Self {
        ProjectorConfig {
            batch_size: 1_000,
            min_commit_interval: Duration::from_millis(10),
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// What a projector is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectorState {
    Starting,
    Running,
    Retrying { error: String, attempts: u32 },
}

/// A projector's state and checkpoint, for status pages and metrics; lag is
/// the store's head position minus `checkpoint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectorStatus {
    pub name: &'static str,
    pub state: ProjectorState,
    pub checkpoint: u64,
    /// Transactions its live follower has committed (rows and checkpoint
    /// each), since it started.
    pub transactions: u64,
    /// Asks the live follower not to wait out its commit interval.
    pub hurry: Hurry,
}

/// Asks a projector's live follower to write the batch it is gathering
/// now, instead of at the end of its
/// [`min_commit_interval`](ProjectorConfig::min_commit_interval): for a
/// reader waiting to see its own writes. A request made while the
/// follower is not waiting shortens its next wait.
#[derive(Debug, Clone, Default)]
pub struct Hurry(Arc<Notify>);

impl Hurry {
    pub fn now(&self) {
        self.0.notify_one();
    }
}

/// One projector's doorbell equals only itself.
impl PartialEq for Hurry {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Hurry {}

/// Whether a batch was applied.
enum Applied {
    /// Yes; the checkpoint is now here.
    Yes(u64),
    /// No: the checkpoint was not where this run left it.
    CheckpointMoved,
}

/// Runs one read model against the store.
#[derive(Debug)]
pub struct Projector<M> {
    store: Store,
    model: Arc<M>,
    config: ProjectorConfig,
    status: watch::Sender<ProjectorStatus>,
}

impl<M: ReadModel> Projector<M> {
    pub fn new(store: Store, model: M, config: ProjectorConfig) -> Self {
        let status = watch::Sender::new(ProjectorStatus {
            name: model.name(),
            state: ProjectorState::Starting,
            checkpoint: 0,
            transactions: 0,
            hurry: Hurry::default(),
        });
        Projector {
            store,
            model: Arc::new(model),
            config,
            status,
        }
    }

    /// `projection.<name>`.
    pub fn checkpoint_name(&self) -> String {
        checkpoint_name(self.model.name())
    }

    pub fn status(&self) -> watch::Receiver<ProjectorStatus> {
        self.status.subscribe()
    }

    /// Head position minus checkpoint.
    pub async fn lag(&self) -> Result<u64, Error> {
        let head = self.store.head_position().await?;
        Ok(head.saturating_sub(self.status.borrow().checkpoint))
    }

    /// Follows the log forever: catch-up, then live. Failures are retried
    /// with back-off; nothing here gives up.
    pub async fn run(self) {
        let mut attempts = 0;
        let checkpoint = loop {
            let started = async {
                reset::restore_indexes(&self.store, self.model.tables()).await?;
                Ok::<_, Error>(self.store.load_checkpoint(&self.checkpoint_name()).await?)
            };
            match started.await {
                Ok(position) => break position,
                Err(error) => {
                    attempts += 1;
                    self.failed(&error, attempts).await;
                }
            }
        };
        self.set(ProjectorState::Running, checkpoint);
        let mut checkpoint = checkpoint;
        let mut subscription = self.store.subscribe(checkpoint);
        let mut last_commit: Option<Instant> = None;
        let hurry = self.status.borrow().hurry.clone();
        loop {
            let mut batch = Vec::new();
            match subscription.next_recorded().await {
                Ok(first) => batch.push(first),
                Err(error) => {
                    attempts += 1;
                    self.failed(&error.into(), attempts).await;
                    continue;
                }
            }
            self.gather(&mut subscription, &mut batch).await;
            let due = last_commit.map(|at| at + self.config.min_commit_interval);
            if let Some(due) = due
                && batch.len() < self.config.batch_size
                && due > Instant::now()
            {
                tokio::select! {
                    () = tokio::time::sleep_until(due.into()) => {}
                    () = hurry.0.notified() => {}
                }
                self.gather(&mut subscription, &mut batch).await;
            }
            attempts = 0;
            loop {
                match self.apply(checkpoint, &batch).await {
                    Ok(Applied::Yes(to)) => {
                        checkpoint = to;
                        last_commit = Some(Instant::now());
                        break;
                    }
                    Ok(Applied::CheckpointMoved) => {
                        // Another run got there first: resume from its checkpoint.
                        match self.store.load_checkpoint(&self.checkpoint_name()).await {
                            Ok(position) => {
                                checkpoint = position;
                                subscription = self.store.subscribe(checkpoint);
                                self.set(ProjectorState::Running, checkpoint);
                                break;
                            }
                            Err(error) => {
                                attempts += 1;
                                self.failed(&error.into(), attempts).await;
                            }
                        }
                    }
                    Err(error) => {
                        attempts += 1;
                        self.failed(&error, attempts).await;
                    }
                }
            }
        }
    }

    /// Adds to `batch` the events already committed after it, up to
    /// [`ProjectorConfig::batch_size`].
    async fn gather(&self, subscription: &mut Subscription<Store>, batch: &mut Vec<RecordedEvent>) {
        while batch.len() < self.config.batch_size {
            match subscription.try_next_recorded().await {
                Ok(Some(event)) => batch.push(event),
                Ok(None) | Err(_) => break,
            }
        }
    }

    /// Applies everything committed up to now, in batches; returns the new
    /// checkpoint. `progress(done, total)` follows along.
    pub async fn catch_up(&self, progress: impl FnMut(u64, u64)) -> Result<u64, Error> {
        reset::restore_indexes(&self.store, self.model.tables()).await?;
        let model: &dyn ReadModel = &*self.model;
        let to = replay::replay(
            &self.store,
            &[model],
            self.config.batch_size,
            replay::Tables::AsFound,
            progress,
        )
        .await?;
        self.set(ProjectorState::Running, to);
        Ok(to)
    }

    /// Drops the model's rows and checkpoint, then replays the whole log
    /// ([`replay::rebuild`] with this model alone).
    pub async fn rebuild(&self, progress: impl FnMut(u64, u64)) -> Result<u64, Error> {
        self.set(ProjectorState::Running, 0);
        let model: &dyn ReadModel = &*self.model;
        let to = replay::rebuild(&self.store, &[model], progress).await?;
        self.set(ProjectorState::Running, to);
        Ok(to)
    }

    /// Writes one batch's changes and moves the checkpoint from `from` to
    /// the batch's last position, in one transaction, if nothing moved it
    /// meanwhile.
    async fn apply(&self, from: u64, batch: &[RecordedEvent]) -> Result<Applied, Error> {
        let Some(last) = batch.last().map(|e| e.position) else {
            return Ok(Applied::Yes(from));
        };
        let mut changes = Vec::new();
        let mut from_log = Vec::new();
        batch_changes(&*self.model, batch.iter(), &mut changes, &mut from_log)?;
        let name = self.checkpoint_name();
        if !sink::commit(&self.store, (&name, from), changes, from_log, last).await? {
            return Ok(Applied::CheckpointMoved);
        }
        self.status.send_modify(|s| {
            s.state = ProjectorState::Running;
            s.checkpoint = last;
            s.transactions += 1;
        });
        Ok(Applied::Yes(last))
    }

    async fn failed(&self, error: &Error, attempts: u32) {
        tracing::warn!(projection = self.model.name(), %error, attempts, "projector retrying");
        let checkpoint = self.status.borrow().checkpoint;
        self.set(
            ProjectorState::Retrying {
                error: error.to_string(),
                attempts,
            },
            checkpoint,
        );
        let wait = maos_store::backoff(
            self.config.initial_backoff,
            self.config.max_backoff,
            attempts,
        );
        tokio::time::sleep(wait).await;
    }

    fn set(&self, state: ProjectorState, checkpoint: u64) {
        self.status.send_modify(|s| {
            s.state = state;
            s.checkpoint = checkpoint;
        });
    }
}

/// The checkpoint of read model `model`: `projection.<model>`.
pub(crate) fn checkpoint_name(model: &str) -> String {
    format!("projection.{model}")
}

/// What `events` make in `model`: its row changes appended to `out`, or,
/// for a model whose rows are the log's columns, those rows appended to
/// `from_log`.
pub(crate) fn batch_changes<'a>(
    model: &dyn ReadModel,
    events: impl Iterator<Item = &'a RecordedEvent>,
    out: &mut Vec<Change>,
    from_log: &mut Vec<LogRows>,
) -> Result<(), Error> {
    let Some(sql) = model.rows_from_log() else {
        return model_changes(model, events, out);
    };
    from_log.push(LogRows {
        sql,
        columns: LogColumns::of(events)?,
    });
    Ok(())
}

/// Appends the changes `events` cause in `model` to `out`; a panic in the
/// model is an error, not a crash.
fn model_changes<'a>(
    model: &dyn ReadModel,
    events: impl Iterator<Item = &'a RecordedEvent>,
    out: &mut Vec<Change>,
) -> Result<(), Error> {
    for event in events {
        let caught =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| model.changes(event, out)));
        match caught {
            Ok(result) => result?,
            Err(_) => {
                return Err(Error::ModelPanicked {
                    model: model.name(),
                    position: event.position,
                });
            }
        }
    }
    Ok(())
}
