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

/// Two writers with their own handles (two nodes, on PostgreSQL) append to
/// one stream in turn; each may remember a version the other has moved on
/// from. Versions must stay contiguous, conflicts must report the real
/// version, and nothing may be written on a wrong expectation.
pub async fn it_keeps_versions_right_when_writers_share_a_stream<S: ForTest>(store: &S) {
    let other = store.writer_handle().await;
    let s = stream();
    assert_eq!(
        store
            .append(&s, ExpectedVersion::NoStream, vec![event(1)])
            .await
            .unwrap()
            .last_version,
        1
    );
    assert_eq!(
        other
            .append(&s, ExpectedVersion::Any, vec![event(2)])
            .await
            .unwrap()
            .last_version,
        2
    );
    // `store` last saw version 1.
    assert_eq!(
        store
            .append(&s, ExpectedVersion::Any, vec![event(3)])
            .await
            .unwrap()
            .last_version,
        3
    );
    let err = store
        .append(&s, ExpectedVersion::Exact(2), vec![event(4)])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                actual: Some(3),
                ..
            }
        ),
        "{err:?}"
    );
    // `other` last saw version 2.
    assert_eq!(
        other
            .append(&s, ExpectedVersion::Exact(3), vec![event(4)])
            .await
            .unwrap()
            .last_version,
        4
    );
    let err = other
        .append(&s, ExpectedVersion::Exact(3), vec![event(5)])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                actual: Some(4),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        store
            .append(&s, ExpectedVersion::Exact(4), vec![event(5)])
            .await
            .unwrap()
            .last_version,
        5
    );
    // An expectation ahead of the stream must not leave a gap.
    let err = store
        .append(&s, ExpectedVersion::Exact(9), vec![event(6)])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                actual: Some(5),
                ..
            }
        ),
        "{err:?}"
    );
    // A third writer that has never seen the stream.
    let third = store.writer_handle().await;
    let err = third
        .append(&s, ExpectedVersion::NoStream, vec![event(6)])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                actual: Some(5),
                ..
            }
        ),
        "{err:?}"
    );

    let recorded = store.read_stream(&s, 0, 100).await.unwrap();
    let versions: Vec<u64> = recorded.iter().map(|e| e.version).collect();
    assert_eq!(versions, vec![1, 2, 3, 4, 5]);
    assert!(recorded.windows(2).all(|w| w[0].position < w[1].position));
    assert_eq!(store.head_position().await.unwrap(), 5);
}
