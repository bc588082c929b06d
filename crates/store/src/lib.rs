//! The maos event store: an append-only log of events, grouped in streams,
//! with one global order.
//!
//! [`EventStore`] states the contract every backend keeps; [`sqlite`] (the
//! embedded default: a file, no server) and [`postgres`] (production,
//! several nodes on one database) implement it, and one contract test suite
//! (`tests/it/contract`) proves both. [`Store`] picks a backend from a URL.
//!
//! ```no_run
//! use maos_domain::Metadata;
//! use maos_store::{EventStore, ExpectedVersion, NewEvent, Store};
//!
//! # async fn demo() -> Result<(), maos_store::Error> {
//! let store = Store::open("sqlite://.maos/maos.db").await?; // or postgres://…
//! let event = NewEvent::new(
//!     "workflows.task.progressed",
//!     serde_json::json!({ "task_id": "build", "attempt": 1, "message": "compiling" }),
//!     Metadata::new(uuid::Uuid::now_v7()),
//! );
//! let stream = "workflow-0190b5f4-1a2b-7c3d-8e4f-5a6b7c8d9e0f";
//! store.append(stream, ExpectedVersion::Any, vec![event]).await?;
//!
//! let mut live = store.subscribe(0); // catch up from the start, then follow
//! let first = live.next().await?;
//! println!("{} at position {}", first.event_type, first.position);
//! # Ok(()) }
//! ```
//!
//! Throughput under many concurrent callers comes from group commit: each
//! store handle has one writer task that gathers the appends waiting in its
//! queue into one transaction and one flush. Durability is never weakened:
//! SQLite commits appends with `synchronous=FULL`, PostgreSQL with
//! `synchronous_commit=on`. (A SQLite turn of nothing but read-model
//! writes, which are derived from events already flushed, leaves its flush
//! to the next commit: see `SqliteStore::write_yielding`.)

mod any;
mod backoff;
mod error;
mod event;
mod group_commit;
mod int;
pub mod postgres;
mod recent;
pub mod sqlite;
mod subscription;
mod validate;

pub use any::Store;
pub use backoff::backoff;
pub use error::Error;
pub use event::{AppendResult, EventPayload, ExpectedVersion, NewEvent, RecordedEvent, Snapshot};
pub use maos_domain::EventEnvelope;
pub use subscription::Subscription;

use std::future::Future;
use tokio::sync::watch;

/// Most events one append may carry.
pub const MAX_EVENTS_PER_APPEND: usize = 10_000;

/// The event store contract. Every backend keeps all of it; the contract
/// test suite checks each point against each backend.
///
/// - **Atomic appends.** [`append`](EventStore::append) writes all of its
///   events or none. Inside a stream they take the next versions (1-based,
///   no gaps); in the global log the next positions (1-based, strictly
///   increasing in commit order; gaps may appear but never out of order).
/// - **Optimistic concurrency.** The expected version is checked in the
///   same transaction that writes; a mismatch is [`Error::Conflict`] with
///   the expected and actual versions, and nothing is written.
/// - **Idempotency.** Re-appending events whose ids are already recorded,
///   in the same stream, in the same order, at a place consistent with the
///   expected version, succeeds without writing and returns the original
///   result. An id recorded anywhere else is [`Error::EventIdTaken`].
/// - **Validation before writing.** An empty append, a malformed stream name
///   or event type, data that is not a JSON object or an id used twice in one
///   append is refused with a typed error; nothing is written.
/// - **No skipped events.** A reader of the global log that has seen
///   position `p` will see every event with a position above `p`: events
///   become visible in position order, so an event can never commit "behind"
///   a reader. This holds with any number of writers, in one process or many.
/// - **Subscriptions.** [`subscribe`](EventStore::subscribe) catches up from
///   any position and turns live without a gap or a duplicate at the switch;
///   it pulls pages as its consumer asks (backpressure).
/// - **Snapshots.** The latest snapshot of a stream can be saved and loaded;
///   an older snapshot never replaces a newer one.
/// - **Checkpoints.** A named reader of the global log (a relay) records the
///   position it is done with; a checkpoint never moves backwards.
/// - **Durability.** An append that returned `Ok` is on disk.
pub trait EventStore: Clone + Send + Sync + 'static {
    /// Appends `events` to `stream` atomically if the stream is at `expected`.
    fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> impl Future<Output = Result<AppendResult, Error>> + Send;

    /// Up to `limit` events of `stream` with a version above `after_version`,
    /// in version order, payloads as stored.
    fn read_stream_recorded(
        &self,
        stream: &str,
        after_version: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, Error>> + Send;

    /// Up to `limit` events of the global log with a position above
    /// `after_position`, in position order, payloads as stored.
    fn read_all_recorded(
        &self,
        after_position: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, Error>> + Send;

    /// Like [`read_all_recorded`](EventStore::read_all_recorded), only each
    /// event's position, stream, version, type and payload: what a fold of
    /// the log reads, without the rest of each row.
    fn read_all_payloads(
        &self,
        after_position: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<EventPayload>, Error>> + Send;

    /// [`read_stream_recorded`](EventStore::read_stream_recorded), decoded.
    fn read_stream(
        &self,
        stream: &str,
        after_version: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<EventEnvelope>, Error>> + Send {
        let recorded = self.read_stream_recorded(stream, after_version, limit);
        async move { decode_all(recorded.await?) }
    }

    /// [`read_all_recorded`](EventStore::read_all_recorded), decoded.
    fn read_all(
        &self,
        after_position: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<EventEnvelope>, Error>> + Send {
        let recorded = self.read_all_recorded(after_position, limit);
        async move { decode_all(recorded.await?) }
    }

    /// The position of the last committed event (0 for an empty store).
    fn head_position(&self) -> impl Future<Output = Result<u64, Error>> + Send;

    /// The version of the last event of `stream`; `None` if it has none.
    fn stream_version(
        &self,
        stream: &str,
    ) -> impl Future<Output = Result<Option<u64>, Error>> + Send;

    /// Saves `snapshot` unless a snapshot of a later version is stored.
    fn save_snapshot(&self, snapshot: Snapshot) -> impl Future<Output = Result<(), Error>> + Send;

    /// The latest snapshot of `stream`, if any.
    fn load_snapshot(
        &self,
        stream: &str,
    ) -> impl Future<Output = Result<Option<Snapshot>, Error>> + Send;

    /// The position the reader `name` is done with (0 if it never saved one).
    fn load_checkpoint(&self, name: &str) -> impl Future<Output = Result<u64, Error>> + Send;

    /// Records that the reader `name` is done with `position`, unless it
    /// already recorded a later one.
    fn save_checkpoint(
        &self,
        name: &str,
        position: u64,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// A wake-up signal carrying the highest position known committed. It
    /// only says "look again".
    fn head_watch(&self) -> watch::Receiver<u64>;

    /// Up to `limit` events from the one after `after_position`, from the
    /// events this handle committed last and still keeps in memory; `None`
    /// when it does not hold that next event (read the log instead). What
    /// it returns is what the log holds at those positions. Live followers
    /// ([`Subscription`]) ask here first.
    fn read_recent(&self, _after_position: u64, _limit: usize) -> Option<Vec<RecordedEvent>> {
        None
    }

    /// Follows the global log from `after_position`: catch-up, then live.
    fn subscribe(&self, after_position: u64) -> Subscription<Self> {
        Subscription::new(self.clone(), after_position)
    }
}

fn decode_all(recorded: Vec<RecordedEvent>) -> Result<Vec<EventEnvelope>, Error> {
    recorded
        .into_iter()
        .map(RecordedEvent::into_envelope)
        .collect()
}
