//! Agent stream events (`agents.agent.*`).

use crate::event_enum::event_enum;
use crate::ids::{AgentId, Capability};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

event_enum! {
    /// Everything that can happen to an agent.
    pub enum AgentEvent {
        Registered(AgentRegistered) => "agents.agent.registered",
        Updated(AgentUpdated) => "agents.agent.updated",
        BecameUnhealthy(AgentBecameUnhealthy) => "agents.agent.became_unhealthy",
        Recovered(AgentRecovered) => "agents.agent.recovered",
        Restarted(AgentRestarted) => "agents.agent.restarted",
        Retired(AgentRetired) => "agents.agent.retired",
    }
}

/// An agent joined the team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AgentRegistered {
    pub agent_id: AgentId,
    pub name: String,
    pub capabilities: Vec<Capability>,
    pub max_concurrency: u32,
    /// How the agent runs tasks (executor kind and its settings).
    pub executor: serde_json::Value,
    pub registered_at: DateTime<Utc>,
}

/// Capabilities or concurrency changed; absent fields are unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AgentUpdated {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Vec<Capability>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u32>,
}

/// The agent gets no new tasks until it recovers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AgentBecameUnhealthy {
    pub reason: String,
    pub consecutive_failures: u32,
    pub at: DateTime<Utc>,
}

/// The agent takes tasks again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AgentRecovered {
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// The agent's actor was restarted by its supervisor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AgentRestarted {
    pub reason: String,
    /// Restarts inside the current intensity window, this one included.
    pub restarts_in_window: u32,
    pub at: DateTime<Utc>,
}

/// The agent left the team for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AgentRetired {
    pub reason: String,
    pub at: DateTime<Utc>,
}
