use super::{ForTest, event, stream};
use maos_store::ExpectedVersion;

pub async fn it_reads_streams_and_the_log_in_pages<S: ForTest>(store: &S) {
    let (a, b) = (stream(), stream());
    for n in 0..10 {
        store
            .append(&a, ExpectedVersion::Any, vec![event(n)])
            .await
            .unwrap();
        store
            .append(&b, ExpectedVersion::Any, vec![event(n)])
            .await
            .unwrap();
    }
    let page = store.read_stream(&a, 4, 3).await.unwrap();
    let versions: Vec<u64> = page.iter().map(|e| e.version).collect();
    assert_eq!(versions, vec![5, 6, 7]);
    assert!(store.read_stream(&a, 10, 5).await.unwrap().is_empty());
    assert!(
        store
            .read_stream("test-missing", 0, 5)
            .await
            .unwrap()
            .is_empty()
    );

    let mut positions = Vec::new();
    let mut after = 0;
    loop {
        let page = store.read_all(after, 7).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.position;
        positions.extend(page.iter().map(|e| e.position));
    }
    assert_eq!(positions, (1..=20).collect::<Vec<u64>>());

    // Payload reads: the same events, pages and fields as recorded reads.
    let recorded = store.read_all_recorded(3, 9).await.unwrap();
    let payloads = store.read_all_payloads(3, 9).await.unwrap();
    assert_eq!(payloads.len(), 9);
    for (p, r) in payloads.iter().zip(&recorded) {
        assert_eq!(
            (p.position, &p.stream, p.version, &p.event_type),
            (r.position, &r.stream, r.version, &r.event_type)
        );
        let data: serde_json::Value = serde_json::from_str(&p.data).unwrap();
        assert_eq!(
            data,
            serde_json::from_str::<serde_json::Value>(&r.data).unwrap()
        );
    }
    assert!(store.read_all_payloads(20, 5).await.unwrap().is_empty());
    assert_eq!(store.head_position().await.unwrap(), 20);
    assert_eq!(store.stream_version(&a).await.unwrap(), Some(10));
    assert_eq!(store.stream_version("test-missing").await.unwrap(), None);
}

pub async fn it_keeps_events_and_continues_positions_after_reopening<S: ForTest>(store: &S) {
    let s = stream();
    store
        .append(&s, ExpectedVersion::NoStream, vec![event(1), event(2)])
        .await
        .unwrap();
    let reopened = store.reopen().await;
    assert_eq!(reopened.head_position().await.unwrap(), 2);
    assert_eq!(*reopened.head_watch().borrow(), 2);
    let r = reopened
        .append(&s, ExpectedVersion::Exact(2), vec![event(3)])
        .await
        .unwrap();
    assert_eq!((r.last_version, r.last_position), (3, 3));
    assert_eq!(reopened.read_stream(&s, 0, 10).await.unwrap().len(), 3);
}
