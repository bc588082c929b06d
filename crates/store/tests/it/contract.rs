//! The event store contract suite. Each test is a generic body here; each
//! backend module invokes `event_store_contract_suite!` once, which turns
//! every body into a test on a fresh, isolated store of that backend.

pub mod append;
pub mod idempotency;
pub mod ordering;
pub mod reads;
pub mod snapshots;
pub mod subscription;
pub mod validation;

use maos_domain::Metadata;
use maos_store::{EventStore, NewEvent};
use uuid::Uuid;

/// How a backend makes isolated stores for tests.
pub trait ForTest: EventStore + Sized {
    /// A store on a new, empty database (file or database) of its own.
    async fn fresh() -> Self;
    /// Another handle on the same database with its own writer, as a
    /// second writer of that backend's deployment would have: another node
    /// for PostgreSQL; for SQLite, whose file one process owns, a clone.
    async fn writer_handle(&self) -> Self;
    /// The same database opened again from scratch, as after a restart.
    async fn reopen(&self) -> Self;
    /// Removes the database. Not called when a test fails, so it can be
    /// inspected.
    async fn cleanup(self);
}

/// A test event of type `tests.thing.happened` carrying `{"n": n}`.
pub fn event(n: u64) -> NewEvent {
    NewEvent::new(
        "tests.thing.happened",
        serde_json::json!({ "n": n }),
        Metadata::new(Uuid::now_v7()),
    )
    .with_source("test/contract")
}

/// A stream name of the `test` category, unique per call.
pub fn stream() -> String {
    format!("test-{}", Uuid::now_v7())
}

macro_rules! event_store_contract_suite {
    ($backend:ty) => {
        $crate::contract::event_store_contract_suite!(@tests $backend;
            append::it_appends_and_reads_back_events,
            append::it_checks_the_expected_version_atomically,
            append::it_keeps_streams_apart_in_one_global_order,
            append::it_keeps_versions_right_when_writers_share_a_stream,
            validation::it_refuses_bad_input_and_writes_nothing,
            idempotency::it_accepts_a_retried_append_without_duplicating,
            idempotency::it_refuses_an_event_id_recorded_elsewhere,
            idempotency::it_dedupes_identical_appends_racing_each_other,
            reads::it_reads_streams_and_the_log_in_pages,
            reads::it_keeps_events_and_continues_positions_after_reopening,
            ordering::it_never_lets_a_global_reader_skip_an_event,
            subscription::it_catches_up_and_turns_live_without_gap_or_duplicate,
            subscription::it_wakes_a_caught_up_subscriber_on_append,
            subscription::it_hands_live_followers_exactly_what_the_log_holds,
            snapshots::it_keeps_the_latest_snapshot_per_stream,
            snapshots::it_keeps_named_checkpoints_that_never_move_back,
        );
    };
    (@tests $backend:ty; $($module:ident :: $name:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let store = <$backend as $crate::contract::ForTest>::fresh().await;
                $crate::contract::$module::$name(&store).await;
                <$backend as $crate::contract::ForTest>::cleanup(store).await;
            }
        )+
    };
}

pub(crate) use event_store_contract_suite;
