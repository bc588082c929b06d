use crate::exactly_once::{EventCounter, count_rows, counts, create_counts_table};
use maos_domain::Metadata;
use maos_projections::audit::AuditLog;
use maos_projections::board::WorkflowBoard;
use maos_projections::{Change, Error, Projector, ProjectorConfig, ReadModel, replay};
use maos_store::{EventStore, ExpectedVersion, NewEvent, RecordedEvent, Store};
use uuid::Uuid;

const BOARD_TABLES: [(&str, &str); 3] = [
    ("maos_workflows", "workflow_id"),
    ("maos_tasks", "workflow_id, task_id"),
    ("maos_attempts", "workflow_id, task_id, attempt"),
];

/// A small deterministic generator (splitmix64), so a failing history can
/// be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Appends a random history: random streams, types, correlations, causes
/// and users, in appends of random sizes.
async fn random_history(store: &Store, rng: &mut Rng, appends: u64) {
    let types = [
        "workflows.task.assigned",
        "workflows.task.completed",
        "agents.agent.registered",
        "tests.odd_name.seen",
    ];
    let mut ids = Vec::new();
    for _ in 0..appends {
        let stream = format!("test-{}", rng.below(5));
        let events: Vec<NewEvent> = (0..1 + rng.below(4))
            .map(|_| {
                let mut metadata = Metadata::new(Uuid::from_u128(u128::from(rng.below(3))));
                if rng.below(2) == 0
                    && let Some(cause) = ids.get(rng.below(ids.len().max(1) as u64) as usize)
                {
                    metadata = metadata.caused_by(*cause);
                }
                if rng.below(3) == 0 {
                    metadata = metadata.by_user(format!("user{}", rng.below(2)));
                }
                let e = NewEvent::new(
                    types[rng.below(types.len() as u64) as usize],
                    serde_json::json!({}),
                    metadata,
                );
                ids.push(e.id);
                e
            })
            .collect();
        store
            .append(&stream, ExpectedVersion::Any, events)
            .await
            .unwrap();
    }
}

/// For several random histories, projected incrementally in random-sized
/// batches as the history grows, a rebuild from zero must give exactly the
/// same rows (audit log: upserts; counter: additions).
pub async fn rebuilding_gives_the_rows_incremental_projection_gave(store: &Store) {
    create_counts_table(store).await;
    let seed = std::env::var("MAOS_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED);
    let mut rng = Rng(seed);
    for round in 0..4 {
        for _ in 0..3 {
            let appends = 5 + rng.below(20);
            random_history(store, &mut rng, appends).await;
            crate::audit::run_workflow(store, "carol", Uuid::now_v7()).await;
            let config = ProjectorConfig {
                batch_size: 1 + rng.below(9) as usize,
                ..Default::default()
            };
            Projector::new(store.clone(), AuditLog, config.clone())
                .catch_up(|_, _| {})
                .await
                .unwrap();
            Projector::new(store.clone(), EventCounter, config.clone())
                .catch_up(|_, _| {})
                .await
                .unwrap();
            Projector::new(store.clone(), WorkflowBoard, config)
                .catch_up(|_, _| {})
                .await
                .unwrap();
        }
        let audit_incremental = crate::support::rows(store, "maos_audit", "position").await;
        let counts_incremental = counts(store).await;
        let mut board_incremental = Vec::new();
        for (table, order) in BOARD_TABLES {
            board_incremental.push(crate::support::rows(store, table, order).await);
        }
        let mut progress = Vec::new();
        let head = store.head_position().await.unwrap();
        let rebuilt = Projector::new(store.clone(), AuditLog, ProjectorConfig::default())
            .rebuild(|done, total| progress.push((done, total)))
            .await
            .unwrap();
        Projector::new(store.clone(), EventCounter, ProjectorConfig::default())
            .rebuild(|_, _| {})
            .await
            .unwrap();
        Projector::new(store.clone(), WorkflowBoard, ProjectorConfig::default())
            .rebuild(|_, _| {})
            .await
            .unwrap();
        for ((table, order), incremental) in BOARD_TABLES.iter().zip(&board_incremental) {
            let rebuilt = crate::support::rows(store, table, order).await;
            assert_eq!(&rebuilt, incremental, "{table}, seed {seed} round {round}");
        }
        assert!(
            !board_incremental[1].is_empty(),
            "the runs put tasks on the board"
        );
        assert_eq!(rebuilt, head);
        assert_eq!(
            progress.last(),
            Some(&(head, head)),
            "progress ends at the head"
        );
        assert_eq!(
            crate::support::rows(store, "maos_audit", "position").await,
            audit_incremental,
            "seed {seed} round {round}"
        );
        assert_eq!(
            counts(store).await,
            counts_incremental,
            "seed {seed} round {round}"
        );
        assert_eq!(audit_incremental.len() as u64, head);

        // All three in one pass over the log, in batches small enough that
        // rows are written again in later ones: the same rows again.
        let models: [&dyn ReadModel; 3] = [&AuditLog, &EventCounter, &WorkflowBoard];
        let mut progress = Vec::new();
        let batch_size = 1 + rng.below(9) as usize;
        let rebuilt = replay::rebuild_in_batches(store, &models, batch_size, |done, total| {
            progress.push((done, total))
        })
        .await
        .unwrap();
        assert_eq!(rebuilt, head);
        assert_eq!(progress.last(), Some(&(head, head)));
        for ((table, order), incremental) in BOARD_TABLES.iter().zip(&board_incremental) {
            let rebuilt = crate::support::rows(store, table, order).await;
            assert_eq!(
                &rebuilt, incremental,
                "one pass: {table}, seed {seed} round {round}"
            );
        }
        assert_eq!(
            crate::support::rows(store, "maos_audit", "position").await,
            audit_incremental,
            "one pass: seed {seed} round {round}"
        );
        assert_eq!(
            counts(store).await,
            counts_incremental,
            "one pass: seed {seed}"
        );
    }
}

/// Two rebuilds of the same models at once, in small batches: a run whose
/// batch the other's write got ahead of is refused and resumes from the
/// checkpoints as stored (upserting from then on); both finish, and the
/// rows are those incremental projection gave.
pub async fn two_rebuilds_at_once_give_the_rows_incremental_projection_gave(store: &Store) {
    let mut rng = Rng(0xC0FFEE);
    for _ in 0..3 {
        random_history(store, &mut rng, 20).await;
        crate::audit::run_workflow(store, "erin", Uuid::now_v7()).await;
    }
    Projector::new(store.clone(), AuditLog, ProjectorConfig::default())
        .catch_up(|_, _| {})
        .await
        .unwrap();
    Projector::new(store.clone(), WorkflowBoard, ProjectorConfig::default())
        .catch_up(|_, _| {})
        .await
        .unwrap();
    let models: [&dyn ReadModel; 2] = [&AuditLog, &WorkflowBoard];
    let mut incremental = vec![crate::support::rows(store, "maos_audit", "position").await];
    for (table, order) in BOARD_TABLES {
        incremental.push(crate::support::rows(store, table, order).await);
    }
    let head = store.head_position().await.unwrap();
    let (one, other) = tokio::join!(
        replay::rebuild_in_batches(store, &models, 4, |_, _| {}),
        replay::rebuild_in_batches(store, &models, 5, |_, _| {})
    );
    assert_eq!(one.unwrap(), head);
    assert_eq!(other.unwrap(), head);
    let mut rebuilt = vec![crate::support::rows(store, "maos_audit", "position").await];
    for (table, order) in BOARD_TABLES {
        rebuilt.push(crate::support::rows(store, table, order).await);
    }
    assert_eq!(rebuilt, incremental);
}

/// A rebuild whose batch another run got ahead of resumes from where that
/// run left the checkpoint, and upserts from then on: a row the other run
/// made first is never inserted again (a unique violation on PostgreSQL).
pub async fn a_rebuild_overtaken_by_another_run_upserts_what_that_run_wrote(store: &Store) {
    create_counts_table(store).await;
    let append = |event_type: &'static str, n: usize| async move {
        let events = (0..n)
            .map(|_| {
                NewEvent::new(
                    event_type,
                    serde_json::json!({}),
                    Metadata::new(Uuid::nil()),
                )
            })
            .collect();
        store
            .append("test-overtaken", ExpectedVersion::Any, events)
            .await
            .unwrap();
    };
    append("tests.a.seen", 12).await;
    append("tests.b.seen", 4).await;
    // The rebuild stops after its first batch's write until released. It
    // has read up to its third batch by then (positions 9-12, all `a`):
    // the row of `b` is not among the rows it knows of.
    let (paused, released) = (
        std::sync::Arc::new(std::sync::Barrier::new(2)),
        std::sync::Arc::new(std::sync::Barrier::new(2)),
    );
    let rebuild = {
        let (store, paused, released) = (store.clone(), paused.clone(), released.clone());
        tokio::spawn(async move {
            let models: [&dyn ReadModel; 1] = [&EventCounter];
            let mut first = true;
            replay::rebuild_in_batches(&store, &models, 4, |done, _| {
                if done > 0 && std::mem::take(&mut first) {
                    paused.wait();
                    released.wait();
                }
            })
            .await
        })
    };
    tokio::task::spawn_blocking(move || paused.wait())
        .await
        .unwrap();
    // Another run takes the rest, making the row of `tests.b.seen`; then
    // more events of that type follow.
    Projector::new(store.clone(), EventCounter, ProjectorConfig::default())
        .catch_up(|_, _| {})
        .await
        .unwrap();
    append("tests.b.seen", 4).await;
    tokio::task::spawn_blocking(move || released.wait())
        .await
        .unwrap();
    let head = store.head_position().await.unwrap();
    assert_eq!(rebuild.await.unwrap().unwrap(), head);
    let expected = count_rows([("tests.a.seen", 12), ("tests.b.seen", 8), ("total", 20)]);
    assert_eq!(counts(store).await, expected);
}

/// Refuses every event past a position, as a model with a bug would.
struct BrokenAfter(u64);

impl ReadModel for BrokenAfter {
    fn name(&self) -> &'static str {
        "test_broken"
    }

    fn tables(&self) -> &'static [&'static str] {
        &[]
    }

    fn changes(&self, event: &RecordedEvent, _: &mut Vec<Change>) -> Result<(), Error> {
        if event.position > self.0 {
            return Err(Error::Corrupt {
                position: event.position,
                reason: "broken on purpose".into(),
            });
        }
        Ok(())
    }
}

/// A rebuild builds the tables' secondary indexes again at the end; one cut
/// short leaves them recorded, and the next start of a projector of the
/// table brings them back, identical.
pub async fn a_rebuild_puts_back_the_indexes_it_set_aside(store: &Store) {
    crate::audit::run_workflow(store, "dave", Uuid::now_v7()).await;
    let writer_before = writer_settings(store).await;
    let before = crate::support::indexes(store, "maos_audit").await;
    assert!(
        before.len() >= 5,
        "the audit log has its indexes: {before:?}"
    );
    Projector::new(store.clone(), AuditLog, ProjectorConfig::default())
        .rebuild(|_, _| {})
        .await
        .unwrap();
    assert_eq!(crate::support::indexes(store, "maos_audit").await, before);
    assert_eq!(
        writer_settings(store).await,
        writer_before,
        "building the indexes leaves the SQLite writer's own settings"
    );

    let models: [&dyn ReadModel; 2] = [&AuditLog, &BrokenAfter(3)];
    let error = replay::rebuild(store, &models, |_, _| {})
        .await
        .unwrap_err();
    assert!(error.to_string().contains("broken on purpose"), "{error}");
    assert!(
        crate::support::indexes(store, "maos_audit")
            .await
            .is_empty(),
        "the cut-short rebuild left the indexes set aside"
    );
    let head = store.head_position().await.unwrap();
    // Two projectors of the table starting at once: each index is built
    // once, and neither fails on the other's.
    let projector = || Projector::new(store.clone(), AuditLog, ProjectorConfig::default());
    let (one, other) = (projector(), projector());
    let (first, second) = tokio::join!(one.catch_up(|_, _| {}), other.catch_up(|_, _| {}));
    assert_eq!(first.unwrap(), head);
    assert_eq!(second.unwrap(), head);
    assert_eq!(crate::support::indexes(store, "maos_audit").await, before);
    assert_eq!(
        crate::support::rows(store, "maos_audit", "position")
            .await
            .len() as u64,
        head
    );
}

/// The SQLite writer connection's sorter threads and cache size (nothing
/// on PostgreSQL).
async fn writer_settings(store: &Store) -> Option<(i64, i64)> {
    let Store::Sqlite(sqlite) = store else {
        return None;
    };
    let settings = sqlite
        .write(|c| {
            let threads = c.query_row("PRAGMA threads", [], |r| r.get(0))?;
            let cache = c.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
            Ok((threads, cache))
        })
        .await
        .unwrap();
    Some(settings)
}
