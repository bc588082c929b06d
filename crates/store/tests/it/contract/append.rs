use super::{ForTest, event, stream};
use maos_store::{Error, ExpectedVersion};

pub async fn it_appends_and_reads_back_events<S: ForTest>(store: &S) {
    let s = stream();
    let events = vec![event(1), event(2), event(3)];
    let result = store
        .append(&s, ExpectedVersion::NoStream, events.clone())
        .await
        .unwrap();
    assert_eq!((result.first_version, result.last_version), (1, 3));
    assert_eq!((result.first_position, result.last_position), (1, 3));

    let read = store.read_stream(&s, 0, 100).await.unwrap();
    assert_eq!(read.len(), 3);
    for (i, (got, sent)) in read.iter().zip(&events).enumerate() {
        assert_eq!(got.id, sent.id);
        assert_eq!(got.event_type, sent.event_type);
        assert_eq!(got.stream, s);
        assert_eq!(got.version, i as u64 + 1);
        assert_eq!(got.position, i as u64 + 1);
        assert_eq!(got.data, sent.data);
        assert_eq!(got.metadata, sent.metadata);
        assert_eq!(got.source, "test/contract");
    }
    assert!(read.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    assert_eq!(store.read_all(0, 100).await.unwrap(), read);
}

pub async fn it_checks_the_expected_version_atomically<S: ForTest>(store: &S) {
    let s = stream();
    let conflict = |expected, actual| Error::Conflict {
        stream: s.clone(),
        expected,
        actual,
    };
    let err = store
        .append(&s, ExpectedVersion::Exact(0), vec![event(1)])
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        conflict(ExpectedVersion::Exact(0), None).to_string()
    );

    store
        .append(&s, ExpectedVersion::NoStream, vec![event(1), event(2)])
        .await
        .unwrap();
    let err = store
        .append(&s, ExpectedVersion::NoStream, vec![event(3)])
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Conflict {
                expected: ExpectedVersion::NoStream,
                actual: Some(2),
                ..
            }
        ),
        "{err:?}"
    );
    let err = store
        .append(&s, ExpectedVersion::Exact(1), vec![event(3), event(4)])
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Conflict {
                expected: ExpectedVersion::Exact(1),
                actual: Some(2),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("wrong expected version for stream {s}: expected version 1, actual version 2")
    );
    // Refused appends wrote nothing.
    assert_eq!(store.stream_version(&s).await.unwrap(), Some(2));
    assert_eq!(store.head_position().await.unwrap(), 2);

    let r = store
        .append(&s, ExpectedVersion::Exact(2), vec![event(3)])
        .await
        .unwrap();
    assert_eq!(r.last_version, 3);
    let r = store
        .append(&s, ExpectedVersion::Any, vec![event(4)])
        .await
        .unwrap();
    assert_eq!(r.last_version, 4);
    assert_eq!(store.read_stream(&s, 0, 100).await.unwrap().len(), 4);
}

pub async fn it_keeps_streams_apart_in_one_global_order<S: ForTest>(store: &S) {
    let (a, b) = (stream(), stream());
    store
        .append(&a, ExpectedVersion::NoStream, vec![event(1)])
        .await
        .unwrap();
    store
        .append(&b, ExpectedVersion::NoStream, vec![event(2), event(3)])
        .await
        .unwrap();
    store
        .append(&a, ExpectedVersion::Exact(1), vec![event(4)])
        .await
        .unwrap();

    let in_a: Vec<(u64, u64)> = store
        .read_stream(&a, 0, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| (e.version, e.position))
        .collect();
    assert_eq!(in_a, vec![(1, 1), (2, 4)]);
    let all: Vec<(String, u64)> = store
        .read_all(0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.stream, e.version))
        .collect();
    assert_eq!(all, vec![(a.clone(), 1), (b.clone(), 1), (b, 2), (a, 2)]);
}
