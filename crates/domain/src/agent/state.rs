//! The folded state of one agent, and `evolve`.

use super::events::AgentEvent;
use crate::ids::Capability;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where an agent is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    #[default]
    Unregistered,
    Healthy,
    Unhealthy,
    Retired,
}

/// An agent as its events left it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AgentState {
    /// `Box<str>` and a boxed executor setting keep the state small: a node
    /// holds one per agent inside the agent's actor, and may hold 100,000.
    pub name: Box<str>,
    /// Shared: a node's agents have a few distinct sets between them, and
    /// a node may hold 100,000 agents (`Arc<[_]>` serializes as a list).
    pub capabilities: std::sync::Arc<[Capability]>,
    pub max_concurrency: u32,
    /// The executor setting, as registered; a node drops it once it has
    /// built the executor (it lives on in the stream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor: Option<Box<serde_json::Value>>,
    pub status: AgentStatus,
    /// Supervisor restarts over the agent's life.
    pub restarts: u32,
    pub version: u64,
}

impl AgentStatus {
    /// The status `event` moves an agent to from `self`, or `None` when the
    /// transition is illegal. Every legal transition is listed here.
    pub fn after(self, event: &AgentEvent) -> Option<AgentStatus> {
        use AgentEvent as E;
        use AgentStatus as S;
        match (self, event) {
            (S::Unregistered, E::Registered(_)) => Some(S::Healthy),
            (s @ (S::Healthy | S::Unhealthy), E::Updated(_) | E::Restarted(_)) => Some(s),
            (S::Healthy, E::BecameUnhealthy(_)) => Some(S::Unhealthy),
            (S::Unhealthy, E::Recovered(_)) => Some(S::Healthy),
            (S::Healthy | S::Unhealthy, E::Retired(_)) => Some(S::Retired),
            _ => None,
        }
    }
}

/// Applies one recorded agent event; an illegal one changes nothing but
/// the version.
pub fn evolve(mut state: AgentState, event: &AgentEvent) -> AgentState {
    state.version += 1;
    let Some(status) = state.status.after(event) else {
        return state;
    };
    state.status = status;
    match event {
        AgentEvent::Registered(e) => {
            state.name = e.name.as_str().into();
            state.capabilities = e.capabilities.as_slice().into();
            state.max_concurrency = e.max_concurrency;
            state.executor = Some(Box::new(e.executor.clone()));
        }
        AgentEvent::Updated(e) => {
            if let Some(c) = &e.capabilities {
                state.capabilities = c.as_slice().into();
            }
            if let Some(m) = e.max_concurrency {
                state.max_concurrency = m;
            }
        }
        AgentEvent::Restarted(_) => state.restarts += 1,
        AgentEvent::BecameUnhealthy(_) | AgentEvent::Recovered(_) | AgentEvent::Retired(_) => {}
    }
    state
}
