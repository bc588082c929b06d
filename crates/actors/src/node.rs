//! The node: the library API the gateway (and tests, and benchmarks) call.
//! It starts the actors on a store, registers agents, submits workflows,
//! sends commands and waits for outcomes; it never exposes an actor.

use crate::Error;
use crate::agent_actor::{self, AgentActor, Ensure};
use crate::agents_file::{AgentDefinition, AgentsFile};
use crate::capability_sets::CapabilitySets;
use crate::dispatcher::{Dispatcher, HealthPolicy};
use crate::executor::Outcome;
use crate::messages::AgentCommandMsg;
use crate::metrics::NodeMetrics;
use crate::persist;
use crate::workflow_actor::{self, WorkflowActor, WorkflowCommandMsg};
use actix::prelude::*;
use maos_domain::agent::AgentCommand;
use maos_domain::workflow::{
    self, ForkOrigin, HumanDecision, Workflow, WorkflowCommand, WorkflowSpec, WorkflowState,
    WorkflowStatus,
};
use maos_domain::{AgentId, Attempt, Capability, TaskId, WorkflowId};
use maos_store::{EventStore, Store};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

mod config;
mod resume;

pub use config::{CommandContext, NodeConfig, Submitted, WorkflowOutcome};
use resume::live_streams;

/// What the node's actors share.
pub(crate) struct Shared {
    pub store: Store,
    pub config: NodeConfig,
    pub dispatcher: Addr<Dispatcher>,
    pub arbiter: ArbiterHandle,
    pub metrics: Arc<NodeMetrics>,
    workflows: Mutex<HashMap<WorkflowId, Addr<WorkflowActor>>>,
    agents: Mutex<HashMap<AgentId, Addr<AgentActor>>>,
    pub capability_sets: CapabilitySets,
}

impl Shared {
    pub(crate) fn source(&self, actor: &str) -> String {
        format!("{}/{actor}", self.config.node_name)
    }

    pub(crate) fn forget_workflow(&self, id: WorkflowId) {
        lock(&self.workflows).remove(&id);
    }

    pub(crate) fn forget_agent(&self, id: AgentId) {
        lock(&self.agents).remove(&id);
    }

    fn agent(self: &Arc<Self>, id: AgentId) -> Addr<AgentActor> {
        lock(&self.agents)
            .entry(id)
            .or_insert_with(|| agent_actor::start(id, self.clone(), None))
            .clone()
    }

    fn workflow(self: &Arc<Self>, id: WorkflowId) -> Addr<WorkflowActor> {
        lock(&self.workflows)
            .entry(id)
            .or_insert_with(|| workflow_actor::start(id, self.clone(), false))
            .clone()
    }

    /// The actor of a workflow id just made (no events to read back), and
    /// whether it was started now: `false` if the id has a live actor.
    fn new_workflow(self: &Arc<Self>, id: WorkflowId) -> (Addr<WorkflowActor>, bool) {
        match lock(&self.workflows).entry(id) {
            Entry::Occupied(live) => (live.get().clone(), false),
            Entry::Vacant(slot) => {
                let addr = workflow_actor::start(id, self.clone(), true);
                (slot.insert(addr).clone(), true)
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running orchestration node. Cheap to clone; usable from any thread.
#[derive(Clone)]
pub struct Node {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("backend", &self.shared.store.backend())
            .finish()
    }
}

/// Runs `future` inside the actor system (actix on a multi-threaded tokio
/// runtime: actors on this thread, executors and I/O on the pool).
pub fn run<F: Future>(future: F) -> F::Output {
    System::with_tokio_rt(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("cannot build the tokio runtime")
    })
    .block_on(future)
}

impl Node {
    /// Starts a node on `store` and resumes what the log says is live:
    /// every registered agent and every workflow not yet finished (their
    /// deadlines re-armed). Must be called inside [`run`] (or any actix
    /// system).
    pub async fn start(store: Store, config: NodeConfig) -> Result<Node, Error> {
        if System::try_current().is_none() {
            return Err(Error::NotRunning(
                "the actor system (call Node::start inside maos_actors::run)".to_owned(),
            ));
        }
        let mut config = config;
        // Processes run in their task's directory, so every path handed to
        // them (workspace, workflow dir, result file) must be absolute.
        if config.workspace_root.is_relative() {
            let cwd = std::env::current_dir().map_err(|e| {
                Error::AgentConfig(format!("cannot resolve the workspace root: {e}"))
            })?;
            config.workspace_root = cwd.join(&config.workspace_root);
        }
        let metrics = Arc::new(NodeMetrics::default());
        let health = HealthPolicy {
            unhealthy_after: config.unhealthy_after.max(1),
            recover_after: config.recover_after,
        };
        let history = config.history.clone();
        let dispatcher_metrics = metrics.clone();
        let arbiter = Arbiter::current();
        let dispatcher = Dispatcher::start_in_arbiter(&arbiter, move |_| {
            Dispatcher::new(health, history, dispatcher_metrics)
        });
        let shared = Arc::new(Shared {
            store,
            config,
            dispatcher,
            arbiter,
            metrics,
            workflows: Mutex::new(HashMap::new()),
            agents: Mutex::new(HashMap::new()),
            capability_sets: CapabilitySets::default(),
        });
        let node = Node { shared };
        node.resume().await?;
        Ok(node)
    }

    /// Starts actors for every live agent and workflow in the log.
    async fn resume(&self) -> Result<(), Error> {
        let (agents, workflows) = live_streams(&self.shared.store).await?;
        let mut directory = lock(&self.shared.agents);
        for (id, loaded) in agents {
            let addr = agent_actor::start(id, self.shared.clone(), Some(Box::new(loaded)));
            directory.insert(id, addr);
        }
        drop(directory);
        for id in workflows {
            self.shared.workflow(id);
        }
        Ok(())
    }

    /// The store this node writes to.
    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    /// The node's counters and latencies.
    pub fn metrics(&self) -> Arc<NodeMetrics> {
        self.shared.metrics.clone()
    }

    /// Agents announced to the dispatcher: registered, rehydrated and not
    /// retired.
    pub async fn agent_count(&self) -> Result<usize, Error> {
        self.shared
            .dispatcher
            .send(crate::dispatcher::CountAgents)
            .await
            .map_err(|_| Error::NotRunning("the dispatcher".to_owned()))
    }

    /// Workflows live on this node.
    pub fn live_workflows(&self) -> Vec<WorkflowId> {
        lock(&self.shared.workflows).keys().copied().collect()
    }

    /// Registers an agent, or updates its capabilities and concurrency if
    /// one of that name exists. Its executor setting is checked first.
    pub async fn register_agent(
        &self,
        definition: &AgentDefinition,
        ctx: CommandContext,
    ) -> Result<AgentId, Error> {
        self.shared.config.executors.build(&definition.executor)?;
        let id = definition.agent_id();
        let addr = self.shared.agent(id);
        let reply = addr
            .send(Ensure {
                definition: definition.clone(),
                context: ctx,
            })
            .await;
        match reply {
            Ok(result) => result.map(|_| id),
            Err(_) => Err(Error::NotRunning(format!("agent {id}"))),
        }
    }

    /// Registers every agent of a file.
    pub async fn register_agents(&self, file: &AgentsFile) -> Result<Vec<AgentId>, Error> {
        let mut ids = Vec::with_capacity(file.agents.len());
        for definition in &file.agents {
            ids.push(
                self.register_agent(definition, CommandContext::default())
                    .await?,
            );
        }
        Ok(ids)
    }

    /// Changes an agent's capabilities or concurrency.
    pub async fn update_agent(
        &self,
        id: AgentId,
        capabilities: Option<Vec<Capability>>,
        max_concurrency: Option<u32>,
        ctx: CommandContext,
    ) -> Result<u64, Error> {
        self.agent_command(
            id,
            AgentCommand::Update {
                capabilities,
                max_concurrency,
            },
            ctx,
        )
        .await
    }

    /// Retires an agent: its running attempts fail and it takes no more.
    pub async fn retire_agent(
        &self,
        id: AgentId,
        reason: &str,
        ctx: CommandContext,
    ) -> Result<u64, Error> {
        let command = AgentCommand::Retire {
            reason: reason.to_owned(),
            now: chrono::Utc::now(),
        };
        self.agent_command(id, command, ctx).await
    }

    async fn agent_command(
        &self,
        id: AgentId,
        command: AgentCommand,
        ctx: CommandContext,
    ) -> Result<u64, Error> {
        let addr = lock(&self.shared.agents).get(&id).cloned();
        let Some(addr) = addr else {
            // Not live here: let the domain say why (retired, unknown).
            let loaded =
                persist::load::<maos_domain::agent::Agent>(&self.shared.store, &id.stream())
                    .await?;
            if loaded.version == 0 {
                return Err(Error::UnknownAgent(id));
            }
            maos_domain::agent::decide(&loaded.state, command)?;
            return Err(Error::NotRunning(format!("agent {id}")));
        };
        addr.send(AgentCommandMsg {
            command,
            context: ctx,
        })
        .await
        .map_err(|_| Error::NotRunning(format!("agent {id}")))?
    }

    /// Submits a workflow. The spec is validated first; a refused spec
    /// appends nothing.
    pub async fn submit(
        &self,
        spec: WorkflowSpec,
        ctx: CommandContext,
    ) -> Result<Submitted, Error> {
        self.submit_as(WorkflowId(Uuid::now_v7()), spec, ctx).await
    }

    /// Submits a workflow with the id `workflow_id` (a fresh UUIDv7 the
    /// caller reserved, e.g. for a retried request). Refused if a workflow
    /// of that id exists.
    pub async fn submit_as(
        &self,
        workflow_id: WorkflowId,
        spec: WorkflowSpec,
        ctx: CommandContext,
    ) -> Result<Submitted, Error> {
        workflow::validate_spec(&spec).map_err(maos_domain::Error::from)?;
        let command = WorkflowCommand::Submit {
            workflow_id,
            spec,
            now: chrono::Utc::now(),
        };
        self.start_workflow(workflow_id, command, ctx).await
    }

    /// Starts a new workflow from `origin`'s state at a checkpoint
    /// (`at_origin`, e.g. read "as of" from the checkpoints read model).
    pub async fn fork(
        &self,
        origin: ForkOrigin,
        at_origin: WorkflowState,
        ctx: CommandContext,
    ) -> Result<Submitted, Error> {
        self.fork_as(WorkflowId(Uuid::now_v7()), origin, at_origin, ctx)
            .await
    }

    /// [`Node::fork`] with the new workflow's id chosen by the caller.
    pub async fn fork_as(
        &self,
        workflow_id: WorkflowId,
        origin: ForkOrigin,
        at_origin: WorkflowState,
        ctx: CommandContext,
    ) -> Result<Submitted, Error> {
        let command = WorkflowCommand::Fork {
            workflow_id,
            origin,
            at_origin: Box::new(at_origin),
            now: chrono::Utc::now(),
        };
        // Refusals (an origin not submitted…) are found before an actor starts.
        workflow::decide(&WorkflowState::default(), command.clone())?;
        self.start_workflow(workflow_id, command, ctx).await
    }

    /// What submitting (or forking) workflow `id` answered, read from its
    /// stream: its correlation and the version after the submission's
    /// events — one append, so one timestamp, and each caused by the first
    /// (see `persist::encode`). `None` if no such workflow was made.
    pub async fn submitted(&self, id: WorkflowId) -> Result<Option<Submitted>, Error> {
        /// Events read at a time (a fork of a long workflow decides many).
        const PAGE: usize = 1_000;
        let stream = id.stream();
        let mut first: Option<(Uuid, chrono::DateTime<chrono::Utc>, Uuid)> = None;
        let mut version = 0;
        let mut after = 0;
        'pages: loop {
            let events = self.shared.store.read_stream(&stream, after, PAGE).await?;
            for e in &events {
                let (first_id, at, _) =
                    *first.get_or_insert((e.id, e.timestamp, e.metadata.correlation_id));
                let in_batch = e.id == first_id
                    || (e.metadata.causation_id == Some(first_id) && e.timestamp == at);
                if !in_batch {
                    break 'pages;
                }
                version = e.version;
            }
            match events.last() {
                Some(last) if events.len() == PAGE => after = last.version,
                _ => break,
            }
        }
        Ok(first.map(|(_, _, correlation_id)| Submitted {
            workflow_id: id,
            correlation_id,
            version,
        }))
    }

    async fn start_workflow(
        &self,
        workflow_id: WorkflowId,
        command: WorkflowCommand,
        ctx: CommandContext,
    ) -> Result<Submitted, Error> {
        let correlation_id = ctx.correlation_id.unwrap_or_else(Uuid::now_v7);
        let context = CommandContext {
            correlation_id: Some(correlation_id),
            ..ctx
        };
        // The id was made by the caller just now (UUIDv7): nothing to load.
        let (addr, started) = self.shared.new_workflow(workflow_id);
        let result = addr
            .send(WorkflowCommandMsg { command, context })
            .await
            .map_err(|_| Error::NotRunning(format!("workflow {workflow_id}")))?;
        match result {
            Ok(version) => Ok(Submitted {
                workflow_id,
                correlation_id,
                version,
            }),
            Err(e) => {
                // A live workflow's actor refused a second submission of
                // its id: it stays; an actor started for this one goes.
                if started {
                    self.shared.forget_workflow(workflow_id);
                }
                Err(e)
            }
        }
    }

    /// Cancels a workflow; its running processes are killed.
    pub async fn cancel(
        &self,
        id: WorkflowId,
        reason: &str,
        ctx: CommandContext,
    ) -> Result<u64, Error> {
        let command = WorkflowCommand::Cancel {
            reason: reason.to_owned(),
            now: chrono::Utc::now(),
        };
        self.workflow_command(id, command, ctx).await
    }

    /// A human answers an escalated task.
    pub async fn resolve(
        &self,
        id: WorkflowId,
        task_id: TaskId,
        decision: HumanDecision,
        ctx: CommandContext,
    ) -> Result<u64, Error> {
        let command = WorkflowCommand::ResolveEscalation {
            task_id,
            decision,
            now: chrono::Utc::now(),
        };
        self.workflow_command(id, command, ctx).await
    }

    /// A result reported from outside (a remote agent) for an attempt;
    /// fenced like every result: a stale attempt's result is recorded as
    /// rejected and not applied.
    pub async fn report_result(
        &self,
        id: WorkflowId,
        task_id: TaskId,
        attempt: Attempt,
        outcome: Outcome,
        ctx: CommandContext,
    ) -> Result<u64, Error> {
        let command = outcome.into_command(task_id, attempt, chrono::Utc::now());
        self.workflow_command(id, command, ctx).await
    }

    async fn workflow_command(
        &self,
        id: WorkflowId,
        command: WorkflowCommand,
        ctx: CommandContext,
    ) -> Result<u64, Error> {
        let addr = lock(&self.shared.workflows).get(&id).cloned();
        let Some(addr) = addr else {
            // Not live here: let the domain say why (finished, unknown).
            let loaded = persist::load::<Workflow>(&self.shared.store, &id.stream()).await?;
            if loaded.version == 0 {
                return Err(Error::UnknownWorkflow(id));
            }
            workflow::decide(&loaded.state, command)?;
            return Err(Error::NotRunning(format!("workflow {id}")));
        };
        addr.send(WorkflowCommandMsg {
            command,
            context: ctx,
        })
        .await
        .map_err(|_| Error::NotRunning(format!("workflow {id}")))?
    }

    /// A workflow's current state, read from the store.
    pub async fn workflow_state(&self, id: WorkflowId) -> Result<WorkflowState, Error> {
        let loaded = persist::load::<Workflow>(&self.shared.store, &id.stream()).await?;
        if loaded.version == 0 {
            return Err(Error::UnknownWorkflow(id));
        }
        Ok(loaded.state)
    }

    /// Waits until the workflow completed, failed or was cancelled, or
    /// stops to wait for a human (escalated).
    pub async fn wait_settled(&self, id: WorkflowId) -> Result<WorkflowOutcome, Error> {
        self.wait_for(id, |s| {
            !matches!(s, WorkflowStatus::Submitted | WorkflowStatus::Running)
        })
        .await
    }

    /// Waits until the workflow completed, failed or was cancelled.
    pub async fn wait_finished(&self, id: WorkflowId) -> Result<WorkflowOutcome, Error> {
        self.wait_for(id, |s| !s.is_active() && s != WorkflowStatus::NotSubmitted)
            .await
    }

    async fn wait_for(
        &self,
        id: WorkflowId,
        done: impl Fn(WorkflowStatus) -> bool,
    ) -> Result<WorkflowOutcome, Error> {
        let stream = id.stream();
        let mut head = self.shared.store.head_watch();
        let mut loaded = persist::Loaded::default();
        loop {
            persist::catch_up::<Workflow>(&self.shared.store, &stream, &mut loaded).await?;
            let status = loaded.state.status;
            if done(status) {
                return Ok(WorkflowOutcome {
                    status,
                    state: loaded.state,
                });
            }
            let _ = tokio::time::timeout(Duration::from_millis(200), head.changed()).await;
        }
    }

    /// Stops every actor of this node (their state is all in the store).
    pub fn stop(&self) {
        lock(&self.shared.workflows).clear();
        lock(&self.shared.agents).clear();
    }
}
