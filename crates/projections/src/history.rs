//! A workflow's history: its checkpoints (its state after each of its
//! events), its state "as of" a version, a global position or a time, and
//! forks of it.
//!
//! State as of a point is the domain's `evolve` folded over the stream up
//! to that point, read from the log itself, so it is the state the workflow
//! had then by definition.

use crate::Error;
use crate::db::check_limit;
use chrono::{DateTime, Utc};
use maos_domain::workflow::{self, ForkOrigin, WorkflowCommand, WorkflowEvent, WorkflowState};
use maos_domain::{Metadata, WorkflowId};
use maos_store::{EventStore, ExpectedVersion, NewEvent, RecordedEvent};
use std::collections::VecDeque;

/// Most checkpoints listed per page.
pub const MAX_PAGE: usize = 1_000;
/// Events read per page while folding.
const FOLD_PAGE: usize = 2_000;
/// Pages of a stream read at once while folding it.
pub const READ_AHEAD: usize = 3;

/// A point in a workflow's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOf {
    /// After the workflow's event with this stream version.
    Version(u64),
    /// After every event of the workflow at or before this global position.
    Position(u64),
    /// After every event of the workflow recorded at or before this time.
    Time(DateTime<Utc>),
}

impl AsOf {
    fn includes(&self, event: &RecordedEvent) -> bool {
        match *self {
            AsOf::Version(v) => event.version <= v,
            AsOf::Position(p) => event.position <= p,
            AsOf::Time(t) => event.timestamp <= t,
        }
    }
}

/// One checkpoint: the workflow's state right after this event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub version: u64,
    pub position: u64,
    pub event_type: String,
    pub recorded_at: DateTime<Utc>,
}

/// A page of a workflow's checkpoints after `after_version`.
pub async fn checkpoints(
    store: &impl EventStore,
    workflow: WorkflowId,
    after_version: u64,
    limit: usize,
) -> Result<Vec<Checkpoint>, Error> {
    let limit = usize::try_from(check_limit(limit, MAX_PAGE)?).unwrap_or(MAX_PAGE);
    let events = store
        .read_stream(&workflow.stream(), after_version, limit)
        .await?;
    Ok(events
        .into_iter()
        .map(|e| Checkpoint {
            version: e.version,
            position: e.position,
            event_type: e.event_type,
            recorded_at: e.timestamp,
        })
        .collect())
}

/// The workflow's state as of `as_of`; `None` if it had no events by then.
///
/// A stream's versions run from 1 without gaps, so the pages of a fold are
/// known in advance: up to [`READ_AHEAD`] of them are read at once, on as
/// many connections, while the earliest is folded.
pub async fn state_as_of(
    store: &impl EventStore,
    workflow: WorkflowId,
    as_of: AsOf,
) -> Result<Option<WorkflowState>, Error> {
    let stream = workflow.stream();
    // The last version the fold can need.
    let end = match as_of {
        AsOf::Version(v) => v,
        AsOf::Position(_) | AsOf::Time(_) => u64::MAX,
    };
    let read_page = |after: u64| {
        let store = store.clone();
        let stream = stream.clone();
        let limit = usize::try_from(end - after).map_or(FOLD_PAGE, |n| n.min(FOLD_PAGE));
        tokio::spawn(async move { store.read_stream_recorded(&stream, after, limit).await })
    };
    let mut state = WorkflowState::default();
    let mut reading = VecDeque::new();
    let mut next_after = 0;
    'pages: loop {
        while reading.len() < READ_AHEAD && next_after < end {
            reading.push_back(read_page(next_after));
            next_after = next_after.saturating_add(FOLD_PAGE as u64);
        }
        let Some(page) = reading.pop_front() else {
            break;
        };
        let page = page
            .await
            .map_err(|e| Error::TaskStopped(format!("reading {stream}: {e}")))??;
        let full = page.len() == FOLD_PAGE;
        for recorded in &page {
            if !as_of.includes(recorded) {
                break 'pages;
            }
            let event =
                WorkflowEvent::from_json(&recorded.event_type, &recorded.data).map_err(|e| {
                    Error::Corrupt {
                        position: recorded.position,
                        reason: e.to_string(),
                    }
                })?;
            state = workflow::evolve(state, &event);
        }
        if !full {
            // The stream (or the versions asked for) ended here.
            break;
        }
    }
    for page in reading {
        page.abort();
    }
    Ok((state.version > 0).then_some(state))
}

/// Starts workflow `new` from `origin`'s checkpoint at `as_of`: tasks
/// completed there keep their outputs and do not run again; the others run
/// anew. The fork's first event names its origin. Returns the origin
/// version forked from.
pub async fn fork(
    store: &impl EventStore,
    origin: WorkflowId,
    as_of: AsOf,
    new: WorkflowId,
    metadata: Metadata,
    now: DateTime<Utc>,
) -> Result<u64, Error> {
    let Some(at_origin) = state_as_of(store, origin, as_of).await? else {
        return Err(Error::InvalidQuery(format!(
            "workflow {origin} has no events at {as_of:?}"
        )));
    };
    let version = at_origin.version;
    let command = WorkflowCommand::Fork {
        workflow_id: new,
        origin: ForkOrigin {
            workflow_id: origin,
            version,
        },
        at_origin: Box::new(at_origin),
        now,
    };
    let events = workflow::decide(&WorkflowState::default(), command).map_err(Error::Refused)?;
    let new_events: Vec<NewEvent> = events
        .iter()
        .map(|e| NewEvent::from_domain(e, metadata.clone()))
        .collect();
    store
        .append(&new.stream(), ExpectedVersion::NoStream, new_events)
        .await?;
    Ok(version)
}
