use super::{ForTest, event, stream};
use maos_store::{Error, ExpectedVersion};
use std::future::Future;
use std::time::Duration;

/// What `next` gives, failing the test if it takes over 30 s.
async fn in_time<T>(next: impl Future<Output = Result<T, Error>>) -> T {
    tokio::time::timeout(Duration::from_secs(30), next)
        .await
        .expect("the subscription stalled")
        .unwrap()
}

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
        positions.push(in_time(sub.next()).await.position);
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

pub async fn it_hands_live_followers_exactly_what_the_log_holds<S: ForTest>(store: &S) {
    let other = store.writer_handle().await;
    let (s, t) = (stream(), stream());
    let mut follower = store.subscribe(0);
    let first = vec![event(1), event(2), event(3)];
    store
        .append(&s, ExpectedVersion::NoStream, first.clone())
        .await
        .unwrap();
    // What this handle's writer keeps in memory is the log itself.
    let kept = store
        .read_recent(0, 10)
        .expect("the writer keeps its last events");
    assert_eq!(kept, store.read_all_recorded(0, 10).await.unwrap());
    // A retry (racing a new append, so possibly in the same batch) adds
    // nothing; another writer's event leaves a gap in what this one kept.
    let (retried, next) = tokio::join!(
        store.append(&s, ExpectedVersion::NoStream, first.clone()),
        store.append(&t, ExpectedVersion::NoStream, vec![event(4)]),
    );
    assert_eq!(retried.unwrap().last_position, 3);
    next.unwrap();
    other
        .append(&t, ExpectedVersion::Exact(1), vec![event(5)])
        .await
        .unwrap();
    store
        .append(&s, ExpectedVersion::Exact(3), vec![event(6), event(7)])
        .await
        .unwrap();
    let mut followed = Vec::new();
    while followed.len() < 7 {
        followed.push(in_time(follower.next_recorded()).await);
    }
    assert_eq!(followed, store.read_all_recorded(0, 100).await.unwrap());
    assert!(follower.try_next_recorded().await.unwrap().is_none());
    drop(other);
}
