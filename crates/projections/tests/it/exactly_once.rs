use maos_domain::Metadata;
use maos_projections::{Cell, Change, Error, Projector, ProjectorConfig, ReadModel};
use maos_store::{EventStore, ExpectedVersion, NewEvent, RecordedEvent, Store};
use std::time::Duration;
use uuid::Uuid;

/// Counts events per type by adding 1: applying an event twice, or
/// skipping one, shows in the counts.
pub struct EventCounter;

impl ReadModel for EventCounter {
    fn name(&self) -> &'static str {
        "test_counter"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["test_counts"]
    }

    fn changes(&self, event: &RecordedEvent, out: &mut Vec<Change>) -> Result<(), Error> {
        for key in [event.event_type.as_str(), "total"] {
            out.push(Change::Add {
                table: "test_counts",
                key: vec![("key", Cell::text(key))],
                add: vec![("n", 1)],
            });
        }
        Ok(())
    }
}

pub async fn create_counts_table(store: &Store) {
    const SQL: &str =
        "CREATE TABLE IF NOT EXISTS test_counts (key TEXT PRIMARY KEY, n BIGINT NOT NULL)";
    match store {
        Store::Sqlite(s) => s.write(|c| Ok(c.execute_batch(SQL)?)).await.unwrap(),
        Store::Postgres(p) => {
            sqlx::query(SQL).execute(p.pool()).await.unwrap();
        }
    }
}

pub async fn counts(store: &Store) -> Vec<String> {
    crate::support::rows(store, "test_counts", "key").await
}

/// The rows [`counts`] gives for these keys and counts, in key order.
pub fn count_rows<K: Into<String>>(counts: impl IntoIterator<Item = (K, i64)>) -> Vec<String> {
    let counts: std::collections::BTreeMap<String, i64> =
        counts.into_iter().map(|(k, n)| (k.into(), n)).collect();
    counts
        .into_iter()
        .map(|(k, n)| {
            format!(
                "{:?}",
                vec![format!("{:?}", Some(k)), format!("{:?}", Some(n))]
            )
        })
        .collect()
}

/// A projector is stopped (its task aborted) again and again while events
/// are appended, and started afresh each time. Whenever it stops — before,
/// during or after a transaction — rows and checkpoint move together, so in
/// the end every event was counted exactly once.
pub async fn a_projector_stopped_mid_run_applies_every_event_exactly_once(store: &Store) {
    create_counts_table(store).await;
    let appender = {
        let store = store.clone();
        tokio::spawn(async move {
            for n in 0..300u32 {
                let kind = ["tests.thing.made", "tests.thing.broke", "tests.thing.fixed"]
                    [(n % 3) as usize];
                let batch: Vec<NewEvent> = (0..(1 + n % 4))
                    .map(|_| {
                        NewEvent::new(
                            kind,
                            serde_json::json!({"n": n}),
                            Metadata::new(Uuid::now_v7()),
                        )
                    })
                    .collect();
                store
                    .append("test-stream", ExpectedVersion::Any, batch)
                    .await
                    .unwrap();
                if n % 10 == 0 {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            }
        })
    };
    let config = ProjectorConfig {
        batch_size: 7,
        ..ProjectorConfig::default()
    };
    let mut stops = 0;
    while !appender.is_finished() || stops < 10 {
        let running =
            tokio::spawn(Projector::new(store.clone(), EventCounter, config.clone()).run());
        tokio::time::sleep(Duration::from_millis(3 + (stops % 5))).await;
        running.abort();
        let _ = running.await;
        stops += 1;
    }
    appender.await.unwrap();
    let projector = Projector::new(store.clone(), EventCounter, config);
    let checkpoint = projector.catch_up(|_, _| {}).await.unwrap();
    let all = store.read_all(0, 10_000).await.unwrap();
    assert_eq!(checkpoint, all.last().unwrap().position);
    let mut expected: std::collections::BTreeMap<String, i64> = Default::default();
    for e in &all {
        *expected.entry(e.event_type.clone()).or_default() += 1;
    }
    expected.insert("total".into(), all.len() as i64);
    let expected = count_rows(expected);
    assert_eq!(counts(store).await, expected, "after {stops} stops");
}

/// Appends `count` events to one stream, each in an append of its own.
async fn append_one_at_a_time(store: &Store, count: u64) {
    for n in 0..count {
        let e = NewEvent::new(
            "tests.thing.made",
            serde_json::json!({"n": n}),
            Metadata::new(Uuid::now_v7()),
        );
        store
            .append("test-stream", ExpectedVersion::Any, vec![e])
            .await
            .unwrap();
    }
}

/// Fails (panics) on every event while `broken` is set.
pub struct Flaky {
    pub broken: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl ReadModel for Flaky {
    fn name(&self) -> &'static str {
        "test_flaky"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["test_counts"]
    }

    fn changes(&self, event: &RecordedEvent, out: &mut Vec<Change>) -> Result<(), Error> {
        assert!(
            !self.broken.load(std::sync::atomic::Ordering::SeqCst),
            "flaky model is broken"
        );
        EventCounter.changes(event, out)
    }
}

/// A failing projector retries with back-off and does not hold up a
/// projector running beside it; once it works again it catches up.
pub async fn a_failing_projector_does_not_stop_the_others(store: &Store) {
    create_counts_table(store).await;
    append_one_at_a_time(store, 20).await;
    let broken = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let config = ProjectorConfig {
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        ..ProjectorConfig::default()
    };
    let flaky = Projector::new(
        store.clone(),
        Flaky {
            broken: broken.clone(),
        },
        config.clone(),
    );
    let mut flaky_status = flaky.status();
    let audit = Projector::new(store.clone(), maos_projections::audit::AuditLog, config);
    let mut audit_status = audit.status();
    let tasks = [tokio::spawn(flaky.run()), tokio::spawn(audit.run())];
    let wait = Duration::from_secs(30);
    tokio::time::timeout(wait, audit_status.wait_for(|s| s.checkpoint == 20))
        .await
        .unwrap()
        .unwrap();
    let retrying = tokio::time::timeout(
        wait,
        flaky_status.wait_for(|s| matches!(s.state, maos_projections::ProjectorState::Retrying { attempts, .. } if attempts >= 2)),
    )
    .await
    .expect("the failing projector should be retrying")
    .unwrap()
    .clone();
    assert_eq!(retrying.checkpoint, 0);
    broken.store(false, std::sync::atomic::Ordering::SeqCst);
    tokio::time::timeout(wait, flaky_status.wait_for(|s| s.checkpoint == 20))
        .await
        .unwrap()
        .unwrap();
    for t in tasks {
        t.abort();
    }
    let total = counts(store)
        .await
        .into_iter()
        .find(|r| r.contains("total"))
        .unwrap();
    assert!(total.contains("Some(20)"), "{total}");
}

/// Events appended one at a time, faster than the projector's least
/// interval between commits, are gathered into few transactions: the
/// first batch is written at once, then at most one per interval that
/// has passed. Every event is still applied once.
pub async fn a_live_projector_gathers_events_that_come_faster_than_it_commits(store: &Store) {
    create_counts_table(store).await;
    let interval = Duration::from_millis(500);
    let config = ProjectorConfig {
        min_commit_interval: interval,
        ..ProjectorConfig::default()
    };
    let projector = Projector::new(store.clone(), EventCounter, config);
    let mut status = projector.status();
    let task = tokio::spawn(projector.run());
    let started = std::time::Instant::now();
    const EVENTS: u64 = 40;
    append_one_at_a_time(store, EVENTS).await;
    let done = tokio::time::timeout(
        Duration::from_secs(30),
        status.wait_for(|s| s.checkpoint == EVENTS),
    )
    .await
    .expect("the projector should apply every event")
    .unwrap()
    .clone();
    let elapsed = started.elapsed();
    task.abort();
    let most = 1 + (elapsed.as_secs_f64() / interval.as_secs_f64()).ceil() as u64;
    assert!(
        done.transactions <= most,
        "{} transactions in {elapsed:?}, at most one per {interval:?} wanted",
        done.transactions
    );
    let total = counts(store)
        .await
        .into_iter()
        .find(|r| r.contains("total"))
        .unwrap();
    assert_eq!(total, count_rows([("total", EVENTS as i64)])[0]);
}

/// A reader that wants its own writes hurries the projector: the batch it
/// is gathering is written at once, not at the end of its (here very
/// long) commit interval.
pub async fn a_hurried_projector_writes_its_batch_before_its_interval_ends(store: &Store) {
    create_counts_table(store).await;
    let config = ProjectorConfig {
        min_commit_interval: Duration::from_secs(600),
        ..ProjectorConfig::default()
    };
    let projector = Projector::new(store.clone(), EventCounter, config);
    let mut status = projector.status();
    let task = tokio::spawn(projector.run());
    let wait = Duration::from_secs(30);
    append_one_at_a_time(store, 1).await;
    // The first batch goes at once; the next waits out the interval.
    tokio::time::timeout(wait, status.wait_for(|s| s.checkpoint == 1))
        .await
        .unwrap()
        .unwrap();
    append_one_at_a_time(store, 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(status.borrow().checkpoint, 1, "the interval was not kept");
    status.borrow().hurry.now();
    let done = tokio::time::timeout(wait, status.wait_for(|s| s.checkpoint == 2))
        .await
        .expect("a hurried projector should write its batch at once")
        .unwrap()
        .clone();
    task.abort();
    assert_eq!(done.transactions, 2);
}
