use super::{ForTest, event, stream};
use maos_store::ExpectedVersion;
use std::time::Duration;

pub async fn it_catches_up_and_turns_live_without_gap_or_duplicate<S: ForTest>(store: &S) {
    let s = stream();
    for n in 0..50 {
        store
            .append(&s, ExpectedVersion::Any, vec![event(n)])
            .await
            .unwrap();
    }
    let mut sub = store.subscribe(20).with_page_size(8);
    let writer = {
        let (store, s) = (store.clone(), s.clone());
        tokio::spawn(async move {
            for n in 50..80 {
                store
                    .append(&s, ExpectedVersion::Any, vec![event(n)])
                    .await
                    .unwrap();
            }
        })
    };
    let mut positions = Vec::new();
    while positions.len() < 60 {
        let e = tokio::time::timeout(Duration::from_secs(30), sub.next())
            .await
            .expect("subscription stalled")
            .unwrap();
        positions.push(e.position);
    }
    writer.await.unwrap();
    assert_eq!(positions, (21..=80).collect::<Vec<u64>>());
    assert_eq!(sub.position(), 80);
    assert!(sub.try_next().await.unwrap().is_none());
}

pub async fn it_wakes_a_caught_up_subscriber_on_append<S: ForTest>(store: &S) {
    let s = stream();
    // A poll interval far beyond the timeout below: only the store's
    // wake-up can deliver the event in time.
    let mut sub = store
        .subscribe(0)
        .with_poll_interval(Duration::from_secs(3600));
    assert!(sub.try_next().await.unwrap().is_none());
    let waiting = tokio::spawn(async move { sub.next().await.map(|e| e.position) });
    tokio::task::yield_now().await;
    store
        .append(&s, ExpectedVersion::Any, vec![event(1)])
        .await
        .unwrap();
    let position = tokio::time::timeout(Duration::from_secs(30), waiting)
        .await
        .expect("the subscriber was not woken")
        .unwrap()
        .unwrap();
    assert_eq!(position, 1);
}
