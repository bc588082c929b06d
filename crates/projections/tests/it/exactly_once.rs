use maos_domain::{EventEnvelope, Metadata};
use maos_projections::{Cell, Change, Projector, ProjectorConfig, ReadModel};
use maos_store::{EventStore, ExpectedVersion, NewEvent, Store};
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

    fn changes(&self, event: &EventEnvelope, out: &mut Vec<Change>) {
        for key in [event.event_type.as_str(), "total"] {
            out.push(Change::Add {
                table: "test_counts",
                key: vec![("key", Cell::text(key))],
                add: vec![("n", 1)],
            });
        }
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
    let expected: Vec<String> = expected
        .into_iter()
        .map(|(k, n)| {
            format!(
                "{:?}",
                vec![format!("{:?}", Some(k)), format!("{:?}", Some(n))]
            )
        })
        .collect();
    assert_eq!(counts(store).await, expected, "after {stops} stops");
}
