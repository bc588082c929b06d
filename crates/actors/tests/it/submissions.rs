//! What a submission answered, read back from its workflow's stream.

use crate::support::*;
use maos_actors::NodeConfig;
use maos_domain::{Metadata, WorkflowId};
use maos_store::{EventStore, ExpectedVersion, NewEvent, Store};
use serde_json::json;
use uuid::Uuid;

/// A submission's events are one append whose events after the first are
/// caused by it; a fork of a long workflow can decide more than one page
/// of them.
pub async fn a_submission_longer_than_a_page_is_read_to_its_end(store: &Store) {
    let (node, _dir) = node(store, NodeConfig::default()).await;
    let id = WorkflowId(Uuid::now_v7());
    let correlation = Uuid::now_v7();
    let first = NewEvent::new(
        "workflows.task.progressed",
        json!({}),
        Metadata::new(correlation),
    );
    let first_id = first.id;
    let mut batch = vec![first];
    for _ in 1..1_500 {
        let mut metadata = Metadata::new(correlation);
        metadata.causation_id = Some(first_id);
        batch.push(NewEvent::new(
            "workflows.task.progressed",
            json!({}),
            metadata,
        ));
    }
    store
        .append(&id.stream(), ExpectedVersion::NoStream, batch)
        .await
        .unwrap();
    // A later command's events: caused by something else.
    let mut later = Metadata::new(correlation);
    later.causation_id = Some(Uuid::now_v7());
    store
        .append(
            &id.stream(),
            ExpectedVersion::Exact(1_500),
            vec![NewEvent::new("workflows.task.progressed", json!({}), later)],
        )
        .await
        .unwrap();

    let made = node
        .submitted(id)
        .await
        .unwrap()
        .expect("the workflow exists");
    assert_eq!(made.version, 1_500);
    assert_eq!(made.correlation_id, correlation);
    assert!(
        node.submitted(WorkflowId(Uuid::now_v7()))
            .await
            .unwrap()
            .is_none()
    );
    node.stop();
}
