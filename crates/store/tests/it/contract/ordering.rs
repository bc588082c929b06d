use super::{ForTest, event};
use maos_store::ExpectedVersion;
use std::collections::HashSet;
use std::time::Duration;

const WRITERS: u64 = 8;
const EVENTS_PER_WRITER: u64 = 1_000;

/// 8 writers, each with its own handle (and so its own writer task and
/// connection), append 1,000 single-event appends each while a subscriber
/// follows the global log live. The subscriber must see all 8,000 exactly
/// once, in strictly increasing position: an event that commits late must
/// never land behind a position the reader has already passed.
pub async fn it_never_lets_a_global_reader_skip_an_event<S: ForTest>(store: &S) {
    let total = WRITERS * EVENTS_PER_WRITER;
    let mut subscription = store
        .subscribe(0)
        .with_page_size(97)
        .with_poll_interval(Duration::from_millis(20));
    let reader = tokio::spawn(async move {
        let mut seen = Vec::with_capacity(total as usize);
        while (seen.len() as u64) < total {
            let e = subscription.next().await.unwrap();
            seen.push((e.position, e.id));
        }
        seen
    });
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let handle = store.writer_handle().await;
        writers.push(tokio::spawn(async move {
            let stream = format!("test-writer{w}");
            let mut ids = Vec::new();
            for n in 0..EVENTS_PER_WRITER {
                let e = event(n);
                ids.push(e.id);
                handle
                    .append(&stream, ExpectedVersion::Any, vec![e])
                    .await
                    .unwrap();
            }
            ids
        }));
    }
    let mut written = HashSet::new();
    for w in writers {
        written.extend(w.await.unwrap());
    }
    let seen = tokio::time::timeout(Duration::from_secs(120), reader)
        .await
        .expect("the subscriber did not see every event")
        .unwrap();
    assert!(
        seen.windows(2).all(|w| w[0].0 < w[1].0),
        "positions are not strictly increasing"
    );
    let seen_ids: HashSet<_> = seen.iter().map(|(_, id)| *id).collect();
    assert_eq!(seen_ids.len() as u64, total, "an event was seen twice");
    assert_eq!(seen_ids, written, "the subscriber missed events");
    assert_eq!(store.head_position().await.unwrap(), seen.last().unwrap().0);
}
