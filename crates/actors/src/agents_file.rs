//! Agent definitions, as written in an agents file (YAML or JSON).
//!
//! ```yaml
//! agents:
//!   - name: backend-1
//!     capabilities: [backend, qa]
//!     max_concurrency: 2
//!     executor:
//!       kind: process
//!       argv: ["sh", "-c", "{instruction}"]
//! ```

use crate::Error;
use maos_domain::{AgentId, Capability};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Namespace of agent ids derived from names.
const AGENT_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6d61_6f73_2d61_6765_6e74_2d69_6473_0001);

/// A whole agents file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentsFile {
    pub agents: Vec<AgentDefinition>,
}

/// One agent: who it is, what it can do and how it runs tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentDefinition {
    /// Unique on a node; the agent's id is derived from it.
    #[schemars(pattern(r"\S"))]
    pub name: String,
    /// What it can do; a task goes to an agent with its capability.
    #[schemars(schema_with = "capabilities_schema")]
    pub capabilities: Vec<Capability>,
    /// Tasks it runs at once.
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = maos_domain::agent::MAX_AGENT_CONCURRENCY))]
    pub max_concurrency: u32,
    /// `{kind: process, …}` or `{kind: instant}`; see [`crate::executor`].
    #[schemars(
        schema_with = "executor_schema",
        description = "How it runs an attempt: `{kind: process, argv: [...], ...}` or `{kind: instant}`"
    )]
    pub executor: serde_json::Value,
}

fn one() -> u32 {
    1
}

/// At least one capability, none blank (the agent's `decide` refuses the
/// rest). Written here rather than on [`Capability`], whose schema is part
/// of recorded events' schemas.
fn capabilities_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "minItems": 1,
        "items": {"type": "string", "pattern": "\\S"},
    })
}

/// An executor's settings as the registry reads them: an object naming its
/// kind; the rest belongs to that kind (kinds can be registered, so the
/// document does not close the list).
fn executor_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {
            "type": "string",
            "description": "`process` (an argv template per attempt) or `instant` (benchmarks and tests)",
            "examples": ["process", "instant"],
        }},
    })
}

impl AgentsFile {
    /// Parses an agents file. Names must be unique.
    pub fn parse(text: &str) -> Result<AgentsFile, Error> {
        let file: AgentsFile =
            serde_norway::from_str(text).map_err(|e| Error::AgentConfig(e.to_string()))?;
        let mut seen = std::collections::BTreeSet::new();
        for agent in &file.agents {
            if !seen.insert(agent.name.as_str()) {
                return Err(Error::AgentConfig(format!(
                    "agent name {:?} is used more than once",
                    agent.name
                )));
            }
        }
        Ok(file)
    }
}

impl AgentDefinition {
    /// The agent's id: the same name always gives the same id, so a node
    /// restarted with the same file finds its agents again.
    pub fn agent_id(&self) -> AgentId {
        AgentId(Uuid::new_v5(&AGENT_ID_NAMESPACE, self.name.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_parses_and_derives_stable_ids() {
        let file = AgentsFile::parse(
            "agents:\n  - name: a\n    capabilities: [shell]\n    executor: {kind: instant}\n",
        )
        .unwrap();
        assert_eq!(file.agents[0].max_concurrency, 1);
        assert_eq!(file.agents[0].agent_id(), file.agents[0].clone().agent_id());
        let other = AgentDefinition {
            name: "b".into(),
            ..file.agents[0].clone()
        };
        assert_ne!(other.agent_id(), file.agents[0].agent_id());
    }

    #[test]
    fn it_refuses_duplicate_names_and_unknown_fields() {
        let dup = "agents:\n  - {name: a, capabilities: [s], executor: {kind: instant}}\n  - {name: a, capabilities: [s], executor: {kind: instant}}\n";
        assert!(
            AgentsFile::parse(dup)
                .unwrap_err()
                .to_string()
                .contains("\"a\" is used more than once")
        );
        let unknown =
            "agents:\n  - {name: a, capabilities: [s], executor: {kind: instant}, cpus: 2}\n";
        assert!(
            AgentsFile::parse(unknown)
                .unwrap_err()
                .to_string()
                .contains("unknown field `cpus`")
        );
    }
}
