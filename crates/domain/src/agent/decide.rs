//! Agent commands and `decide`.

use super::events::*;
use super::state::{AgentState, AgentStatus};
use crate::Error;
use crate::ids::{AgentId, Capability};
use chrono::{DateTime, Utc};

/// Most tasks one agent may run at once.
pub const MAX_AGENT_CONCURRENCY: u32 = 10_000;

/// Something asked of an agent.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentCommand {
    Register {
        agent_id: AgentId,
        name: String,
        capabilities: Vec<Capability>,
        max_concurrency: u32,
        executor: serde_json::Value,
        now: DateTime<Utc>,
    },
    Update {
        capabilities: Option<Vec<Capability>>,
        max_concurrency: Option<u32>,
    },
    /// The agent failed `consecutive_failures` tasks in a row (or its actor
    /// gave up restarting).
    MarkUnhealthy {
        reason: String,
        consecutive_failures: u32,
        now: DateTime<Utc>,
    },
    Recover {
        reason: String,
        now: DateTime<Utc>,
    },
    RecordRestart {
        reason: String,
        restarts_in_window: u32,
        now: DateTime<Utc>,
    },
    Retire {
        reason: String,
        now: DateTime<Utc>,
    },
}

/// Decides an agent command. Marking an unhealthy agent unhealthy, or
/// recovering a healthy one, decides nothing (no events, no error).
pub fn decide(state: &AgentState, command: AgentCommand) -> Result<Vec<AgentEvent>, Error> {
    use AgentCommand as C;
    match (state.status, command) {
        (
            AgentStatus::Unregistered,
            C::Register {
                agent_id,
                name,
                capabilities,
                max_concurrency,
                executor,
                now,
            },
        ) => {
            if name.trim().is_empty() {
                return Err(Error::InvalidAgent("name is empty".to_owned()));
            }
            check_capabilities(&capabilities)?;
            check_concurrency(max_concurrency)?;
            Ok(vec![
                AgentRegistered {
                    agent_id,
                    name,
                    capabilities,
                    max_concurrency,
                    executor,
                    registered_at: now,
                }
                .into(),
            ])
        }
        (AgentStatus::Unregistered, _) => Err(Error::AgentNotRegistered),
        (_, C::Register { .. }) => Err(Error::AgentAlreadyRegistered),
        (AgentStatus::Retired, _) => Err(Error::AgentRetired),
        (status, command) => decide_registered(status == AgentStatus::Healthy, command),
    }
}

fn decide_registered(healthy: bool, command: AgentCommand) -> Result<Vec<AgentEvent>, Error> {
    use AgentCommand as C;
    let events: Vec<AgentEvent> = match command {
        C::Register { .. } => return Err(Error::AgentAlreadyRegistered),
        C::Update {
            capabilities,
            max_concurrency,
        } => {
            if let Some(c) = &capabilities {
                check_capabilities(c)?;
            }
            if let Some(m) = max_concurrency {
                check_concurrency(m)?;
            }
            if capabilities.is_none() && max_concurrency.is_none() {
                return Ok(vec![]);
            }
            vec![
                AgentUpdated {
                    capabilities,
                    max_concurrency,
                }
                .into(),
            ]
        }
        C::MarkUnhealthy {
            reason,
            consecutive_failures,
            now,
        } if healthy => vec![
            AgentBecameUnhealthy {
                reason,
                consecutive_failures,
                at: now,
            }
            .into(),
        ],
        C::Recover { reason, now } if !healthy => {
            vec![AgentRecovered { reason, at: now }.into()]
        }
        C::MarkUnhealthy { .. } | C::Recover { .. } => vec![],
        C::RecordRestart {
            reason,
            restarts_in_window,
            now,
        } => vec![
            AgentRestarted {
                reason,
                restarts_in_window,
                at: now,
            }
            .into(),
        ],
        C::Retire { reason, now } => vec![AgentRetired { reason, at: now }.into()],
    };
    Ok(events)
}

fn check_capabilities(capabilities: &[Capability]) -> Result<(), Error> {
    if capabilities.is_empty() {
        return Err(Error::InvalidAgent(
            "an agent needs at least one capability".to_owned(),
        ));
    }
    if let Some(bad) = capabilities.iter().find(|c| c.0.trim().is_empty()) {
        return Err(Error::InvalidAgent(format!(
            "capability {:?} is empty",
            bad.0
        )));
    }
    Ok(())
}

fn check_concurrency(max_concurrency: u32) -> Result<(), Error> {
    if max_concurrency == 0 || max_concurrency > MAX_AGENT_CONCURRENCY {
        return Err(Error::InvalidAgent(format!(
            "max_concurrency must be between 1 and {MAX_AGENT_CONCURRENCY}, got {max_concurrency}"
        )));
    }
    Ok(())
}
