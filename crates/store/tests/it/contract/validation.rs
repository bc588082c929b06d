use super::{ForTest, event, stream};
use maos_store::{Error, ExpectedVersion};

pub async fn it_refuses_bad_input_and_writes_nothing<S: ForTest>(store: &S) {
    let s = stream();
    let refusals = [
        (s.clone(), vec![]),
        ("no dash".to_owned(), vec![event(1)]),
        ("Upper-1".to_owned(), vec![event(1)]),
        ("test-".to_owned(), vec![event(1)]),
        (
            s.clone(),
            vec![event(1), {
                let mut e = event(2);
                e.data = serde_json::json!([1, 2]);
                e
            }],
        ),
        (
            s.clone(),
            vec![{
                let mut e = event(1);
                e.data = serde_json::json!("text");
                e
            }],
        ),
        (
            s.clone(),
            vec![{
                let mut e = event(1);
                e.event_type = "Not.A.Type".into();
                e
            }],
        ),
        (
            s.clone(),
            vec![{
                let mut e = event(1);
                e.event_type = "two.parts".into();
                e
            }],
        ),
        (
            s.clone(),
            vec![{
                let mut e = event(1);
                e.metadata.schema_version = 0;
                e
            }],
        ),
        (s.clone(), {
            let e = event(1);
            vec![e.clone(), e]
        }),
    ];
    for (stream, events) in refusals {
        let err = store
            .append(&stream, ExpectedVersion::Any, events.clone())
            .await
            .expect_err("bad input was accepted");
        assert!(err.is_invalid_input(), "{err:?} is not an input error");
        match (&err, events.len()) {
            (Error::EmptyAppend, 0) | (Error::InvalidName(_), _) => {}
            (Error::DataNotObject { found, .. }, _) => {
                assert!(*found == "an array" || *found == "a string")
            }
            (Error::InvalidMetadata { .. } | Error::DuplicateEventInAppend(_), _) => {}
            other => panic!("unexpected refusal {other:?}"),
        }
    }
    assert_eq!(store.head_position().await.unwrap(), 0);
    assert!(store.read_all(0, 10).await.unwrap().is_empty());
    // A good append after the refusals starts at position 1.
    let r = store
        .append(&s, ExpectedVersion::Any, vec![event(1)])
        .await
        .unwrap();
    assert_eq!(r.first_position, 1);
}
