//! Between aggregates and the store: rehydrating a state from snapshot plus
//! stream tail, and turning decided events into appendable ones.

use crate::{CommandContext, Error};
use maos_domain::agent::{Agent, AgentEvent};
use maos_domain::workflow::{Workflow, WorkflowEvent};
use maos_domain::{Decider, DomainEvent, Metadata};
use maos_store::{EventStore, NewEvent, Snapshot, Store};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// Events read per page while rehydrating.
const PAGE: usize = 1_000;

/// An aggregate whose events and state can be stored.
pub(crate) trait Stored: Decider
where
    Self::State: Serialize + DeserializeOwned,
{
    fn decode(event_type: &str, data: &serde_json::Value) -> Result<Self::Event, Error>;
}

impl Stored for Workflow {
    fn decode(event_type: &str, data: &serde_json::Value) -> Result<WorkflowEvent, Error> {
        WorkflowEvent::from_parts(event_type, data).map_err(|e| Error::Decode(e.to_string()))
    }
}

impl Stored for Agent {
    fn decode(event_type: &str, data: &serde_json::Value) -> Result<AgentEvent, Error> {
        AgentEvent::from_parts(event_type, data).map_err(|e| Error::Decode(e.to_string()))
    }
}

/// A rehydrated aggregate and what its events carried.
#[derive(Debug, Default)]
pub(crate) struct Loaded<S> {
    pub state: S,
    pub version: u64,
    /// The correlation id of the stream's first event.
    pub correlation_id: Option<Uuid>,
    /// The id of the stream's last event.
    pub last_event_id: Option<Uuid>,
}

/// Loads `stream`: its latest snapshot, then every event after it.
pub(crate) async fn load<D>(store: &Store, stream: &str) -> Result<Loaded<D::State>, Error>
where
    D: Stored,
    D::State: Serialize + DeserializeOwned,
{
    let mut loaded = Loaded::default();
    if let Some(snapshot) = store.load_snapshot(stream).await? {
        loaded.state = serde_json::from_value(snapshot.state)
            .map_err(|e| Error::Decode(format!("snapshot of {stream}: {e}")))?;
        loaded.version = snapshot.version;
        let first = store.read_stream(stream, 0, 1).await?;
        loaded.correlation_id = first.first().map(|e| e.metadata.correlation_id);
    }
    catch_up::<D>(store, stream, &mut loaded).await?;
    Ok(loaded)
}

/// Folds into `loaded` every event of `stream` after its version.
pub(crate) async fn catch_up<D>(
    store: &Store,
    stream: &str,
    loaded: &mut Loaded<D::State>,
) -> Result<(), Error>
where
    D: Stored,
    D::State: Serialize + DeserializeOwned,
{
    loop {
        let page = store.read_stream(stream, loaded.version, PAGE).await?;
        for envelope in &page {
            let event = D::decode(&envelope.event_type, &envelope.data)?;
            loaded.state = D::evolve(std::mem::take(&mut loaded.state), &event);
            loaded.version = envelope.version;
            loaded
                .correlation_id
                .get_or_insert(envelope.metadata.correlation_id);
            loaded.last_event_id = Some(envelope.id);
        }
        if page.len() < PAGE {
            return Ok(());
        }
    }
}

/// Saves a snapshot of `state` at `version`.
pub(crate) async fn snapshot<S: Serialize>(
    store: &Store,
    stream: &str,
    version: u64,
    state: &S,
) -> Result<(), Error> {
    let state = serde_json::to_value(state).map_err(|e| Error::Decode(e.to_string()))?;
    store
        .save_snapshot(Snapshot {
            stream: stream.to_owned(),
            version,
            state,
            taken_at: chrono::Utc::now(),
        })
        .await?;
    Ok(())
}

/// Who caused a batch of events.
#[derive(Debug, Clone)]
pub(crate) struct Cause {
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    pub user_id: Option<String>,
}

impl Cause {
    /// The cause of a command from outside the actor: what `context` names,
    /// and the stream's own correlation (from `own`) where it names none.
    pub(crate) fn from_context(context: CommandContext, own: Cause) -> Cause {
        let CommandContext {
            correlation_id,
            causation_id,
            user_id,
        } = context;
        if correlation_id.is_none() && causation_id.is_none() && user_id.is_none() {
            return own;
        }
        Cause {
            correlation_id: correlation_id.unwrap_or(own.correlation_id),
            causation_id,
            user_id,
        }
    }
}

/// The batch's events, ready to append: the first is caused by `cause`,
/// the rest by the first (they are its consequences).
pub(crate) fn encode<E: DomainEvent>(events: &[E], cause: &Cause, source: &str) -> Vec<NewEvent> {
    let mut out: Vec<NewEvent> = Vec::with_capacity(events.len());
    for event in events {
        let mut metadata = Metadata::new(cause.correlation_id);
        metadata.causation_id = match out.first() {
            Some(first) => Some(first.id),
            None => cause.causation_id,
        };
        metadata.user_id = cause.user_id.clone();
        out.push(NewEvent::from_domain(event, metadata).with_source(source));
    }
    out
}
