use super::{ForTest, stream};
use chrono::{DateTime, Utc};
use maos_store::Snapshot;

fn snapshot(stream: &str, version: u64) -> Snapshot {
    Snapshot {
        stream: stream.to_owned(),
        version,
        state: serde_json::json!({ "version": version, "tasks": ["a", "b"] }),
        taken_at: DateTime::<Utc>::from_timestamp_micros(1_763_719_200_123_456 + version as i64)
            .unwrap(),
    }
}

pub async fn it_keeps_the_latest_snapshot_per_stream<S: ForTest>(store: &S) {
    let (a, b) = (stream(), stream());
    assert_eq!(store.load_snapshot(&a).await.unwrap(), None);
    store.save_snapshot(snapshot(&a, 5)).await.unwrap();
    store.save_snapshot(snapshot(&b, 1)).await.unwrap();
    assert_eq!(
        store.load_snapshot(&a).await.unwrap(),
        Some(snapshot(&a, 5))
    );
    // An older snapshot never replaces a newer one.
    store.save_snapshot(snapshot(&a, 3)).await.unwrap();
    assert_eq!(
        store.load_snapshot(&a).await.unwrap(),
        Some(snapshot(&a, 5))
    );
    store.save_snapshot(snapshot(&a, 8)).await.unwrap();
    assert_eq!(
        store.load_snapshot(&a).await.unwrap(),
        Some(snapshot(&a, 8))
    );
    assert_eq!(
        store.load_snapshot(&b).await.unwrap(),
        Some(snapshot(&b, 1))
    );
    assert!(store.save_snapshot(snapshot("bad name", 1)).await.is_err());
}

pub async fn it_keeps_named_checkpoints_that_never_move_back<S: ForTest>(store: &S) {
    assert_eq!(store.load_checkpoint("relay.nats").await.unwrap(), 0);
    store.save_checkpoint("relay.nats", 10).await.unwrap();
    store.save_checkpoint("relay.amqp", 3).await.unwrap();
    store.save_checkpoint("relay.nats", 7).await.unwrap();
    assert_eq!(store.load_checkpoint("relay.nats").await.unwrap(), 10);
    store.save_checkpoint("relay.nats", 12).await.unwrap();
    assert_eq!(store.load_checkpoint("relay.nats").await.unwrap(), 12);
    assert_eq!(store.load_checkpoint("relay.amqp").await.unwrap(), 3);
    let reopened = store.reopen().await;
    assert_eq!(reopened.load_checkpoint("relay.nats").await.unwrap(), 12);
}
