//! What a submission answered, read back from its workflow's stream.

use crate::support::*;
use maos_actors::{CommandContext, NodeConfig};
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

/// A command sent while a submission is being appended queues behind its
/// events, and a second submission of a live id is refused without
/// touching the live workflow (its actor stays the one that runs it).
pub async fn a_command_racing_a_submission_waits_for_it_and_a_live_id_is_not_made_twice(
    store: &Store,
) {
    let (node, _dir) = node(store, NodeConfig::default()).await;
    // No agent has the capability: the workflow waits, live.
    let waiting = "name: waits\ntasks:\n  - {id: a, capability: nobody, instruction: x}\n";
    let id = WorkflowId(Uuid::now_v7());
    // `join` polls the submission first: its actor is in place (and its
    // command under way) when the cancel looks for it.
    let (made, cancelled) = futures_util::future::join(
        node.submit_as(id, spec(waiting), CommandContext::default()),
        node.cancel(id, "changed my mind", CommandContext::default()),
    )
    .await;
    let made = made.unwrap();
    let cancelled = cancelled.expect("the cancel waits for the submission's events");
    assert!(
        cancelled > made.version,
        "{cancelled} after {}",
        made.version
    );
    assert_eq!(
        types(&workflow_events(store, id).await),
        [
            "workflows.workflow.submitted",
            "workflows.workflow.started",
            "workflows.task.ready",
            "workflows.task.cancelled",
            "workflows.workflow.cancelled",
        ]
    );

    let live = WorkflowId(Uuid::now_v7());
    let first = node
        .submit_as(live, spec(waiting), CommandContext::default())
        .await
        .unwrap();
    let head = store.head_position().await.unwrap();
    let err = node
        .submit_as(live, spec(waiting), CommandContext::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("workflow has already been submitted"),
        "{err}"
    );
    assert_eq!(store.head_position().await.unwrap(), head, "appended");
    // The live workflow is still run by its actor: it can be cancelled.
    let cancelled = node
        .cancel(live, "done waiting", CommandContext::default())
        .await
        .expect("the refused resubmission left the live workflow alone");
    assert!(cancelled > first.version);
    node.stop();
}
