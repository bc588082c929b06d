//! The maos domain: what a workflow and an agent *are*, which commands they
//! accept and which events those commands produce.
//!
//! Everything here is pure and synchronous. Each aggregate is a `State:
//! Default` plus `decide(&State, Command) -> Result<Vec<Event>, Error>` and
//! `evolve(State, &Event) -> State`. Inputs that need I/O (the clock, agent
//! stats, fresh ids) are looked up by the caller and passed in the command.
//! Nothing in this crate reads a file, a socket or the clock.

pub mod agent;
pub mod catalogue;
pub mod decider;
pub mod envelope;
mod error;
mod event_enum;
pub mod ids;
mod pattern;
pub mod scoring;
pub mod workflow;

pub use decider::Decider;
pub use envelope::{DomainEvent, EventEnvelope, Metadata, StreamName, validate_event_type};
pub use error::{DecodeError, Error, NameError};
pub use ids::{AgentId, Attempt, Capability, TaskId, WorkflowId};
pub use pattern::TypePattern;
