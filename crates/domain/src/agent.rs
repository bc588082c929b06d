//! The Agent aggregate: registration, capabilities, concurrency, health,
//! supervision restarts and retirement, as pure decide/evolve functions.
//! An agent's running load is not here: it is live actor state, rebuilt
//! from the workflows' assignments.

mod decide;
mod events;
mod state;

#[cfg(test)]
mod tests;

pub use decide::{AgentCommand, MAX_AGENT_CONCURRENCY, decide};
pub use events::*;
pub use state::{AgentState, AgentStatus, evolve};

/// The agent decider, for generic code.
#[derive(Debug, Clone, Copy)]
pub struct Agent;

impl crate::Decider for Agent {
    type State = AgentState;
    type Command = AgentCommand;
    type Event = AgentEvent;
    type Error = crate::Error;

    fn decide(state: &AgentState, command: AgentCommand) -> Result<Vec<AgentEvent>, crate::Error> {
        decide(state, command)
    }

    fn evolve(state: AgentState, event: &AgentEvent) -> AgentState {
        evolve(state, event)
    }
}
