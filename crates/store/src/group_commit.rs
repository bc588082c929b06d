//! Group commit: one writer task per store handle takes every append
//! waiting in its queue, decides each against the database in one
//! transaction and commits them with one flush.
//!
//! No artificial delay: while one commit is flushing, new appends queue up,
//! and the next loop turn takes them all. Under one caller this is a plain
//! commit per append; under many, one flush serves many appends.
//!
//! The decisions (expected version, idempotent retries, positions) are made
//! here, identically for every backend, from what the backend's lookup
//! found. A refused append in a batch does not affect the others.

use crate::recent::Recent;
use crate::{AppendResult, Error, ExpectedVersion, NewEvent, RecordedEvent};
use chrono::{DateTime, Utc};
use maos_domain::StreamName;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

/// Most events one transaction takes; more waiting appends go in the next.
pub(crate) const MAX_BATCH_EVENTS: usize = 4_096;
/// Appends that may wait in a writer's queue before callers wait to enqueue.
pub(crate) const QUEUE_CAPACITY: usize = 8_192;

/// One caller's append, waiting for the writer.
#[derive(Debug)]
pub(crate) struct AppendRequest {
    pub stream: StreamName,
    pub expected: ExpectedVersion,
    pub events: Vec<EncodedEvent>,
    pub reply: oneshot::Sender<Result<AppendResult, Error>>,
}

/// An event with its JSON already rendered. Callers render their own
/// events before queueing, in parallel, so the single writer only writes.
#[derive(Debug)]
pub(crate) struct EncodedEvent {
    pub event: NewEvent,
    pub data: String,
    pub metadata: String,
}

impl EncodedEvent {
    fn new(event: NewEvent) -> Self {
        EncodedEvent {
            data: event.data.to_string(),
            // Metadata is a plain struct; serializing it cannot fail.
            metadata: serde_json::to_string(&event.metadata).unwrap_or_default(),
            event,
        }
    }

    pub(crate) fn id(&self) -> Uuid {
        self.event.id
    }
}

/// What a backend found in the database for a batch, inside the
/// transaction that will write it (so it cannot change before commit).
#[derive(Debug, Default)]
pub(crate) struct Lookup {
    /// Position of the last committed event.
    pub head: u64,
    /// Current version of each stream the batch touches that has events.
    pub versions: HashMap<String, u64>,
    /// Already recorded events among the batch's ids.
    pub existing: HashMap<Uuid, Recorded>,
}

/// Where an event id is already recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recorded {
    pub stream: String,
    pub version: u64,
    pub position: u64,
}

/// A row to insert.
#[derive(Debug)]
pub(crate) struct Row<'a> {
    pub position: u64,
    pub stream: &'a str,
    pub version: u64,
    pub event: &'a EncodedEvent,
    pub timestamp: DateTime<Utc>,
}

/// A batch decided: rows to write, and each request's answer if the write
/// commits.
#[derive(Debug)]
pub(crate) struct Plan<'a> {
    pub rows: Vec<Row<'a>>,
    /// What the batch has done once its transaction commits.
    pub committed: Committed,
}

/// A batch committed: each request's answer, and where its new events are.
#[derive(Debug)]
pub(crate) struct Committed {
    pub answers: Vec<Result<AppendResult, Error>>,
    /// The global position before the batch's new events. A retry's
    /// answer points at events recorded earlier: at or below it, or at
    /// events an earlier request of the same batch wrote.
    pub base: u64,
    /// The global position after the batch.
    pub head: u64,
    /// The time recorded on the batch's new events.
    pub recorded_at: DateTime<Utc>,
}

/// The streams and event ids a batch touches, for the backend's lookup.
pub(crate) fn keys(batch: &[AppendRequest]) -> (Vec<&str>, Vec<Uuid>) {
    let mut streams: Vec<&str> = batch.iter().map(|r| r.stream.as_str()).collect();
    streams.sort_unstable();
    streams.dedup();
    let ids = batch
        .iter()
        .flat_map(|r| r.events.iter().map(EncodedEvent::id))
        .collect();
    (streams, ids)
}

/// Decides every request of a batch, in queue order.
pub(crate) fn plan<'a>(
    batch: &'a [AppendRequest],
    mut lookup: Lookup,
    now: DateTime<Utc>,
) -> Plan<'a> {
    let mut rows = Vec::new();
    let mut outcomes = Vec::with_capacity(batch.len());
    let base = lookup.head;
    let mut head = base;
    for request in batch {
        let stream = request.stream.as_str();
        let actual = lookup.versions.get(stream).copied();
        if let Some(outcome) = idempotent_outcome(request, &lookup.existing) {
            outcomes.push(outcome);
            continue;
        }
        if !request.expected.matches(actual) {
            outcomes.push(Err(Error::Conflict {
                stream: stream.to_owned(),
                expected: request.expected,
                actual,
            }));
            continue;
        }
        let first_version = actual.unwrap_or(0) + 1;
        let first_position = head + 1;
        for (i, event) in request.events.iter().enumerate() {
            let offset = i as u64;
            let row = Row {
                position: first_position + offset,
                stream,
                version: first_version + offset,
                event,
                timestamp: now,
            };
            // Later requests in this batch see these as recorded.
            lookup.existing.insert(
                event.id(),
                Recorded {
                    stream: stream.to_owned(),
                    version: row.version,
                    position: row.position,
                },
            );
            rows.push(row);
        }
        let count = request.events.len() as u64;
        head += count;
        lookup
            .versions
            .insert(stream.to_owned(), first_version + count - 1);
        outcomes.push(Ok(AppendResult {
            first_version,
            last_version: first_version + count - 1,
            first_position,
            last_position: head,
        }));
    }
    Plan {
        rows,
        committed: Committed {
            answers: outcomes,
            base,
            head,
            recorded_at: now,
        },
    }
}

/// `None` if none of the request's ids is recorded. Otherwise the answer to
/// a retry: the original result when every id is recorded in this stream,
/// in this order, where the expected version says; `EventIdTaken` if not.
fn idempotent_outcome(
    request: &AppendRequest,
    existing: &HashMap<Uuid, Recorded>,
) -> Option<Result<AppendResult, Error>> {
    let (first_taken, recorded) = request
        .events
        .iter()
        .find_map(|e| existing.get(&e.id()).map(|r| (e.id(), r)))?;
    let taken = || {
        Err(Error::EventIdTaken {
            id: first_taken,
            stream: recorded.stream.clone(),
            version: recorded.version,
        })
    };
    let Some(first) = existing.get(&request.events[0].id()) else {
        return Some(taken());
    };
    let in_place = request.events.iter().enumerate().all(|(i, e)| {
        existing.get(&e.id()).is_some_and(|r| {
            r.stream == request.stream.as_str() && r.version == first.version + i as u64
        })
    });
    let expected_fits = match request.expected {
        ExpectedVersion::Any => true,
        ExpectedVersion::NoStream => first.version == 1,
        ExpectedVersion::Exact(v) => first.version == v + 1,
    };
    if !in_place || !expected_fits {
        return Some(taken());
    }
    let last = &existing[&request.events[request.events.len() - 1].id()];
    Some(Ok(AppendResult {
        first_version: first.version,
        last_version: last.version,
        first_position: first.position,
        last_position: last.position,
    }))
}

/// A batch's outcome: what it committed, or a failure of the whole batch
/// (nothing written).
pub(crate) type BatchOutcome = Result<Committed, Error>;

/// A backend's side of group commit, for async drivers: decide and write
/// one batch in one transaction.
pub(crate) trait BatchWriter: Send + 'static {
    fn commit(&mut self, batch: &[AppendRequest]) -> impl Future<Output = BatchOutcome> + Send;
}

/// The async writer task: runs until every handle of the store is dropped.
pub(crate) async fn run_writer(
    mut writer: impl BatchWriter,
    mut queue: mpsc::Receiver<AppendRequest>,
    head: Arc<watch::Sender<u64>>,
    recent: Arc<Recent>,
) {
    while let Some(first) = queue.recv().await {
        let batch = gather(first, &mut queue);
        let outcome = writer.commit(&batch).await;
        deliver(batch, outcome, &head, &recent);
    }
}

/// `first` and every append already waiting behind it, up to
/// [`MAX_BATCH_EVENTS`] events.
fn gather(first: AppendRequest, queue: &mut mpsc::Receiver<AppendRequest>) -> Vec<AppendRequest> {
    let mut events = first.events.len();
    let mut batch = vec![first];
    while events < MAX_BATCH_EVENTS {
        match queue.try_recv() {
            Ok(next) => {
                events += next.events.len();
                batch.push(next);
            }
            Err(_) => break,
        }
    }
    batch
}

/// Keeps the batch's new events for live followers and wakes readers
/// (before answering, so a caller that reads after its append returns sees
/// the signal already moved), then answers each caller.
pub(crate) fn deliver(
    batch: Vec<AppendRequest>,
    outcome: BatchOutcome,
    head: &watch::Sender<u64>,
    recent: &Recent,
) {
    match outcome {
        Ok(committed) => {
            let mut written =
                Vec::with_capacity(usize::try_from(committed.head - committed.base).unwrap_or(0));
            let mut next = committed.base + 1;
            let mut replies = Vec::with_capacity(batch.len());
            for (request, answer) in batch.into_iter().zip(committed.answers) {
                let AppendRequest {
                    stream,
                    events,
                    reply,
                    ..
                } = request;
                if let Ok(result) = &answer {
                    // New events follow on from the base in queue order; a
                    // retry's answer points further back.
                    if result.first_position == next {
                        next = result.last_position + 1;
                        written.extend(recorded(&stream, events, result, committed.recorded_at));
                    }
                }
                replies.push((reply, answer));
            }
            recent.record(written);
            advance(head, committed.head);
            for (reply, answer) in replies {
                let _ = reply.send(answer);
            }
        }
        Err(error) => {
            tracing::warn!(%error, appends = batch.len(), "group commit failed");
            for request in batch {
                let _ = request.reply.send(Err(error.clone()));
            }
        }
    }
}

/// A request's events as the log now holds them.
fn recorded(
    stream: &StreamName,
    events: Vec<EncodedEvent>,
    result: &AppendResult,
    recorded_at: DateTime<Utc>,
) -> impl Iterator<Item = RecordedEvent> {
    let stream = stream.as_str().to_owned();
    let (first_version, first_position) = (result.first_version, result.first_position);
    events.into_iter().zip(0u64..).map(move |(encoded, i)| {
        let EncodedEvent {
            event,
            data,
            metadata,
        } = encoded;
        RecordedEvent {
            id: event.id,
            event_type: event.event_type,
            stream: stream.clone(),
            version: first_version + i,
            position: first_position + i,
            timestamp: recorded_at,
            source: event.source,
            data,
            metadata,
        }
    })
}

/// The caller's side, first half: validate and render an append; the
/// receiver gets the writer's answer.
pub(crate) fn prepare(
    stream: &str,
    expected: ExpectedVersion,
    events: Vec<NewEvent>,
) -> Result<
    (
        AppendRequest,
        oneshot::Receiver<Result<AppendResult, Error>>,
    ),
    Error,
> {
    let stream = crate::validate::check_append(stream, &events)?;
    let (reply, answer) = oneshot::channel();
    let request = AppendRequest {
        stream,
        expected,
        events: events.into_iter().map(EncodedEvent::new).collect(),
        reply,
    };
    Ok((request, answer))
}

/// The caller's side: validate, enqueue, await the writer's answer.
pub(crate) async fn submit(
    queue: &mpsc::Sender<AppendRequest>,
    stream: &str,
    expected: ExpectedVersion,
    events: Vec<NewEvent>,
) -> Result<AppendResult, Error> {
    let (request, answer) = prepare(stream, expected, events)?;
    queue
        .send(request)
        .await
        .map_err(|_| Error::WriterStopped)?;
    answer.await.map_err(|_| Error::WriterStopped)?
}

/// Raises the head signal to `position` if that is higher; wakes waiters.
pub(crate) fn advance(head: &watch::Sender<u64>, position: u64) {
    head.send_if_modified(|h| {
        let moved = position > *h;
        *h = (*h).max(position);
        moved
    });
}
