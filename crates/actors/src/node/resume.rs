//! What a starting node resumes: one pass over the log.

use crate::Error;
use crate::persist;
use maos_domain::agent::{self, AgentEvent, AgentState, AgentStatus};
use maos_domain::{AgentId, WorkflowId};
use maos_store::{EventStore, Store};
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Agents registered and not retired (their states folded on the way),
/// and workflows submitted and not finished, from one pass over the log.
pub(super) async fn live_streams(
    store: &Store,
) -> Result<
    (
        HashMap<AgentId, persist::Loaded<AgentState>>,
        Vec<WorkflowId>,
    ),
    Error,
> {
    let mut agents: HashMap<AgentId, persist::Loaded<AgentState>> = HashMap::new();
    let mut workflows: Vec<WorkflowId> = Vec::new();
    let mut finished: HashSet<WorkflowId> = HashSet::new();
    let mut after = 0;
    loop {
        let page = store.read_all_recorded(after, 10_000).await?;
        for e in &page {
            after = e.position;
            let Some((category, id)) = e.stream.split_once('-') else {
                continue;
            };
            let Ok(id) = Uuid::parse_str(id) else {
                continue;
            };
            if category == AgentId::CATEGORY {
                let event = AgentEvent::from_json(&e.event_type, &e.data)
                    .map_err(|err| Error::Decode(err.to_string()))?;
                let loaded = match agents.entry(AgentId(id)) {
                    Entry::Occupied(entry) => entry.into_mut(),
                    // The agent's first event: its correlation is the agent's.
                    Entry::Vacant(entry) => entry.insert(persist::Loaded {
                        state: AgentState::default(),
                        version: 0,
                        correlation_id: Some(e.decode_metadata()?.correlation_id),
                        last_event_id: None,
                    }),
                };
                loaded.state = agent::evolve(std::mem::take(&mut loaded.state), &event);
                loaded.version = e.version;
                loaded.last_event_id = Some(e.id);
                continue;
            }
            match e.event_type.as_str() {
                "workflows.workflow.submitted" => workflows.push(WorkflowId(id)),
                "workflows.workflow.completed"
                | "workflows.workflow.failed"
                | "workflows.workflow.cancelled" => {
                    finished.insert(WorkflowId(id));
                }
                _ => {}
            }
        }
        if page.len() < 10_000 {
            break;
        }
    }
    agents.retain(|_, a| a.state.status != AgentStatus::Retired);
    workflows.retain(|w| !finished.contains(w));
    Ok((agents, workflows))
}
