use super::{ForTest, event, stream};
use maos_store::{Error, ExpectedVersion};

pub async fn it_accepts_a_retried_append_without_duplicating<S: ForTest>(store: &S) {
    let s = stream();
    let events = vec![event(1), event(2), event(3)];
    let first = store
        .append(&s, ExpectedVersion::NoStream, events.clone())
        .await
        .unwrap();
    store
        .append(&s, ExpectedVersion::Exact(3), vec![event(4)])
        .await
        .unwrap();

    for expected in [
        ExpectedVersion::NoStream,
        ExpectedVersion::Exact(0),
        ExpectedVersion::Any,
    ] {
        let retry = store.append(&s, expected, events.clone()).await.unwrap();
        assert_eq!(
            retry, first,
            "retry with {expected} must return the original result"
        );
    }
    let retry_last = store
        .append(
            &s,
            ExpectedVersion::Exact(3),
            vec![store_event(store, &s, 4).await],
        )
        .await
        .unwrap();
    assert_eq!((retry_last.first_version, retry_last.last_position), (4, 4));
    assert_eq!(store.stream_version(&s).await.unwrap(), Some(4));
    assert_eq!(store.head_position().await.unwrap(), 4);
}

/// The recorded event at `version` of `stream`, as a new event with the
/// same id, type and data.
async fn store_event<S: ForTest>(store: &S, stream: &str, version: u64) -> maos_store::NewEvent {
    let recorded = store
        .read_stream(stream, version - 1, 1)
        .await
        .unwrap()
        .remove(0);
    maos_store::NewEvent::new(recorded.event_type, recorded.data, recorded.metadata)
        .with_id(recorded.id)
}

pub async fn it_refuses_an_event_id_recorded_elsewhere<S: ForTest>(store: &S) {
    let (a, b) = (stream(), stream());
    let e1 = event(1);
    store
        .append(&a, ExpectedVersion::NoStream, vec![e1.clone(), event(2)])
        .await
        .unwrap();

    let err = store
        .append(&b, ExpectedVersion::Any, vec![e1.clone()])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::EventIdTaken { id, stream, version: 1 } if *id == e1.id && *stream == a),
        "{err:?}"
    );
    // Partly new, partly recorded: refused whole.
    let err = store
        .append(&a, ExpectedVersion::Any, vec![e1.clone(), event(3)])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::EventIdTaken { .. }), "{err:?}");
    // Recorded, but not where the expected version says.
    let err = store
        .append(&a, ExpectedVersion::Exact(1), vec![e1])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::EventIdTaken { .. }), "{err:?}");
    assert!(store.stream_version(&b).await.unwrap().is_none());
    assert_eq!(store.head_position().await.unwrap(), 2);
}

pub async fn it_dedupes_identical_appends_racing_each_other<S: ForTest>(store: &S) {
    let s = stream();
    let events = vec![event(1), event(2)];
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (store, s, events) = (store.clone(), s.clone(), events.clone());
            tokio::spawn(async move { store.append(&s, ExpectedVersion::NoStream, events).await })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap().unwrap());
    }
    assert!(results.windows(2).all(|w| w[0] == w[1]), "{results:?}");
    assert_eq!(store.read_stream(&s, 0, 100).await.unwrap().len(), 2);
}
