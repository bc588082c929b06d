//! maos orchestration: workflows and agents as supervised actors.
//!
//! A [`Node`] runs on an event store. Each live workflow is a
//! `WorkflowActor` and each registered agent an `AgentActor`, both under an
//! actix `Supervisor`; a `Dispatcher` matches ready tasks with agents using
//! the domain's scoring function. Every actor turns messages into commands,
//! decides them with the pure domain functions, appends the events with the
//! expected version and only then evolves its state, one command at a time.
//! Nothing else is kept: after a restart or a crash, actors rehydrate from
//! snapshot plus stream tail and re-arm the deadlines their events hold.
//!
//! actix stays behind this crate's API: callers see [`Node`], [`run`] and
//! plain data types, never an actor address.
//!
//! ```no_run
//! use maos_actors::{AgentsFile, Node, NodeConfig, parse_workflow_spec, run};
//!
//! run(async {
//!     let store = maos_store::Store::open("sqlite://.maos/maos.db").await?;
//!     let node = Node::start(store, NodeConfig::default()).await?;
//!     let agents = AgentsFile::parse(&std::fs::read_to_string("examples/agents.yaml")?)?;
//!     node.register_agents(&agents).await?;
//!     let spec = parse_workflow_spec(&std::fs::read_to_string("examples/hello.yaml")?)?;
//!     let submitted = node.submit(spec, Default::default()).await?;
//!     let outcome = node.wait_finished(submitted.workflow_id).await?;
//!     println!("{:?}", outcome.status);
//!     Ok::<_, Box<dyn std::error::Error>>(())
//! })
//! .unwrap();
//! ```

mod agent_actor;
mod agents_file;
mod capability_index;
mod capability_sets;
mod dispatcher;
mod error;
pub mod executor;
mod messages;
mod metrics;
mod node;
mod persist;
mod spec_file;
mod supervision;
mod waiting_queue;
mod workflow_actor;

pub use agents_file::{AgentDefinition, AgentsFile};
pub use error::Error;
pub use executor::{ExecutorRegistry, Job, Outcome};
pub use metrics::{Histogram, LatencySamples, NodeMetrics};
pub use node::{CommandContext, Node, NodeConfig, Submitted, WorkflowOutcome, run};
pub use spec_file::parse_workflow_spec;
pub use supervision::RestartPolicy;
