//! `AgentActor`: one per registered agent, under an actix `Supervisor`.
//!
//! It owns the agent's stream (registration, updates, health, restarts,
//! retirement) and runs the attempts it is given with its executor, each
//! on the multi-threaded runtime. A panicking executor fails its attempt and
//! stops the actor, which its supervisor restarts (an
//! `agents.agent.restarted` event); past the restart intensity the actor
//! gives up for good (`agents.agent.became_unhealthy`).

use crate::Error;
use crate::agents_file::AgentDefinition;
use crate::executor::{Executor, Outcome};
use crate::messages::*;
use crate::node::Shared;
use crate::persist::{self, Cause};
use crate::supervision::{RestartWindow, Verdict};
use actix::WeakRecipient;
use actix::prelude::*;
use maos_domain::agent::{self, Agent, AgentCommand, AgentEvent, AgentState, AgentStatus};
use maos_domain::{AgentId, Attempt, TaskId, WorkflowId};
use maos_store::{EventStore, ExpectedVersion};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

mod attempts;

/// Progress events per attempt are at most one per this interval.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(500);

struct Running {
    attempt: Attempt,
    abort: tokio::task::AbortHandle,
    handle: SpawnHandle,
    reply_to: WeakRecipient<AttemptReport>,
}

/// The attempts an agent runs now, by workflow and task: at most its
/// concurrency, so a list (smaller than a map), boxed and allocated only
/// while the agent runs something.
#[derive(Default)]
#[expect(
    clippy::box_collection,
    reason = "8 bytes inside the actor instead of a Vec's 24 (see `Life`)"
)]
struct RunningAttempts(Option<Box<Vec<(AttemptKey, Running)>>>);

/// Which task an attempt runs.
type AttemptKey = (WorkflowId, TaskId);

impl RunningAttempts {
    /// Adds `running`, in place of an earlier attempt of the same task.
    fn insert(&mut self, key: AttemptKey, running: Running) {
        self.remove(&key);
        self.0.get_or_insert_default().push((key, running));
    }

    fn get(&self, key: &AttemptKey) -> Option<&Running> {
        self.0
            .as_ref()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, r)| r)
    }

    fn remove(&mut self, key: &AttemptKey) -> Option<Running> {
        let list = self.0.as_mut()?;
        let i = list.iter().position(|(k, _)| k == key)?;
        let (_, running) = list.swap_remove(i);
        if list.is_empty() {
            self.0 = None;
        }
        Some(running)
    }

    /// Takes every attempt out.
    fn drain(&mut self) -> impl Iterator<Item = (AttemptKey, Running)> + use<> {
        self.0.take().into_iter().flat_map(|list| list.into_iter())
    }
}

/// The agent's folded state and its stream's ids, boxed: with them inline
/// the supervised actor would take tokio's next task-cell size (640 bytes
/// instead of 512) for each of a node's (up to 100,000) agents.
#[derive(Default)]
struct Life {
    state: AgentState,
    /// The correlation id of the stream's first event; nil until it has one.
    correlation_id: Uuid,
    /// The id of the stream's last event; nil until it has one.
    last_event_id: Uuid,
}

/// `id`, unless it is the nil id `Life` keeps for none.
fn known(id: Uuid) -> Option<Uuid> {
    (!id.is_nil()).then_some(id)
}

impl Life {
    fn from_loaded(loaded: persist::Loaded<AgentState>) -> Self {
        Life {
            state: loaded.state,
            correlation_id: loaded.correlation_id.unwrap_or_default(),
            last_event_id: loaded.last_event_id.unwrap_or_default(),
        }
    }
}

/// Kept to at most 72 bytes (a test says so), which puts the supervised
/// actor in tokio's 512-byte task cell.
pub(crate) struct AgentActor {
    id: AgentId,
    shared: Arc<Shared>,
    life: Box<Life>,
    executor: Option<Arc<dyn Executor>>,
    running: RunningAttempts,
    /// Crash bookkeeping; allocated at the first crash (most agents never
    /// crash, and a node may hold 100,000 of them).
    crashes: Option<Box<Crashes>>,
    /// Gave up restarting, or retired: stop on every (re)start.
    done: bool,
    /// `life` holds what the node's start-up scan folded: the first start
    /// uses it instead of reading the stream (restarts always read).
    preloaded: bool,
}

#[derive(Default)]
struct Crashes {
    window: RestartWindow,
    /// Why the actor crashed, until the restart is recorded.
    reason: Option<String>,
    /// The restart to record once rehydrated.
    to_record: Option<(String, u32)>,
}

impl AgentActor {
    pub(crate) fn new(id: AgentId, shared: Arc<Shared>) -> Self {
        AgentActor {
            id,
            shared,
            life: Box::default(),
            executor: None,
            running: RunningAttempts::default(),
            crashes: None,
            done: false,
            preloaded: false,
        }
    }

    fn cause(&self) -> Cause {
        Cause {
            correlation_id: known(self.life.correlation_id).unwrap_or_else(Uuid::now_v7),
            causation_id: known(self.life.last_event_id),
            user_id: None,
        }
    }

    /// decide → append (expected version) → evolve; the caller runs it
    /// atomically so no other message interleaves.
    fn execute(
        &mut self,
        command: AgentCommand,
        cause: Cause,
    ) -> ResponseActFuture<Self, Result<u64, Error>> {
        let events = match agent::decide(&self.life.state, command) {
            Ok(events) => events,
            Err(e) => return Box::pin(fut::ready(Err(e.into()))),
        };
        if events.is_empty() {
            return Box::pin(fut::ready(Ok(self.life.state.version)));
        }
        let new = persist::encode(&events, &cause, &self.shared.source("agent"));
        let ids: Vec<Uuid> = new.iter().map(|e| e.id).collect();
        let store = self.shared.store.clone();
        let stream = self.id.stream();
        let expected = ExpectedVersion::after(self.life.state.version);
        Box::pin(
            async move { store.append(&stream, expected, new).await }
                .into_actor(self)
                .map(move |result, act, ctx| {
                    let appended = match result {
                        Ok(appended) => appended,
                        Err(e) => {
                            tracing::warn!(agent = %act.id, error = %e, "append failed; rehydrating");
                            ctx.stop();
                            return Err(e.into());
                        }
                    };
                    if act.life.correlation_id.is_nil() {
                        act.life.correlation_id = cause.correlation_id;
                    }
                    for event in &events {
                        act.life.state =
                            agent::evolve(std::mem::take(&mut act.life.state), event);
                        act.share_capabilities();
                    }
                    if let Some(last) = ids.last() {
                        act.life.last_event_id = *last;
                    }
                    act.after(&events, ctx);
                    Ok(appended.last_version)
                }),
        )
    }

    fn after(&mut self, events: &[AgentEvent], ctx: &mut Context<Self>) {
        for event in events {
            if let AgentEvent::Registered(_) = event {
                self.build_executor();
            }
            if let AgentEvent::Retired(_) = event {
                self.retire();
                return;
            }
        }
        self.announce(ctx);
    }

    fn build_executor(&mut self) {
        let setting = self.life.state.executor.take().unwrap_or_default();
        match self.shared.config.executors.build(&setting) {
            Ok(executor) => {
                // The setting lives on in the built executor and in the
                // stream (a restart reads it again); an idle agent keeps
                // no copy of it.
                self.executor = Some(executor);
            }
            Err(e) => {
                tracing::error!(agent = %self.id, error = %e, "agent's executor can't be built; its attempts will fail");
                self.executor = None;
            }
        }
    }

    /// Swaps the state's capabilities for the node's shared copy.
    fn share_capabilities(&mut self) {
        self.life.state.capabilities = self
            .shared
            .capability_sets
            .share(&self.life.state.capabilities);
    }

    /// Tells the dispatcher what this agent offers now.
    fn announce(&self, ctx: &mut Context<Self>) {
        if matches!(
            self.life.state.status,
            AgentStatus::Unregistered | AgentStatus::Retired
        ) {
            return;
        }
        self.shared.dispatcher.do_send(AgentUp {
            agent_id: self.id,
            addr: ctx.address().downgrade(),
            capabilities: self.life.state.capabilities.clone(),
            max_concurrency: self.life.state.max_concurrency,
            healthy: self.life.state.status == AgentStatus::Healthy,
        });
    }

    fn retire(&mut self) {
        self.done = true;
        self.abort_all("agent retired");
        self.shared
            .dispatcher
            .do_send(AgentDown { agent_id: self.id });
        self.shared.forget_agent(self.id);
    }

    /// Aborts every running attempt, reporting each as failed.
    fn abort_all(&mut self, reason: &str) {
        for ((_, task_id), running) in self.running.drain() {
            running.abort.abort();
            if let Some(to) = running.reply_to.upgrade() {
                to.do_send(AttemptReport {
                    task_id,
                    attempt: running.attempt,
                    report: Report::Finished(Outcome::Failed {
                        error: reason.to_owned(),
                    }),
                });
            }
        }
    }

    fn crash(&mut self, reason: String, ctx: &mut Context<Self>) {
        tracing::warn!(agent = %self.id, %reason, "executor panicked; restarting the agent");
        self.abort_all(&format!("agent restarted: {reason}"));
        self.crashes.get_or_insert_default().reason = Some(reason);
        ctx.stop();
    }

    /// Appends outside the actor's command flow (the actor is stopping for
    /// good): decided on the current state, with its expected version.
    fn append_detached(&self, commands: Vec<AgentCommand>) {
        let mut state = self.life.state.clone();
        let mut events = Vec::new();
        for command in commands {
            if let Ok(decided) = agent::decide(&state, command) {
                for event in &decided {
                    state = agent::evolve(state, event);
                }
                events.extend(decided);
            }
        }
        if events.is_empty() {
            return;
        }
        let new = persist::encode(&events, &self.cause(), &self.shared.source("agent"));
        let store = self.shared.store.clone();
        let stream = self.id.stream();
        let expected = ExpectedVersion::after(self.life.state.version);
        let id = self.id;
        actix::spawn(async move {
            if let Err(e) = store.append(&stream, expected, new).await {
                tracing::error!(agent = %id, error = %e, "cannot record that the agent gave up");
            }
        });
    }
}

impl Actor for AgentActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if self.done {
            // Idle until its last address is dropped (stopping here would
            // make the supervisor restart it in a tight loop).
            return;
        }
        if std::mem::take(&mut self.preloaded) {
            self.resume(ctx);
            return;
        }
        let store = self.shared.store.clone();
        let stream = self.id.stream();
        ctx.wait(
            async move { persist::load::<Agent>(&store, &stream).await }
                .into_actor(self)
                .map(|loaded, act, ctx| act.rehydrated(loaded, ctx)),
        );
    }
}

impl AgentActor {
    /// Takes the state read from the store (or preloaded) and gets going.
    fn rehydrated(
        &mut self,
        loaded: Result<persist::Loaded<AgentState>, Error>,
        ctx: &mut Context<Self>,
    ) {
        let loaded = match loaded {
            Ok(loaded) => loaded,
            Err(e) => {
                tracing::error!(agent = %self.id, error = %e, "cannot rehydrate; retrying");
                self.crashes.get_or_insert_default().reason =
                    Some(format!("cannot rehydrate: {e}"));
                ctx.run_later(Duration::from_secs(1), |_, ctx| ctx.stop());
                return;
            }
        };
        *self.life = Life::from_loaded(loaded);
        self.resume(ctx);
    }

    /// Gets going on the state in `life`.
    fn resume(&mut self, ctx: &mut Context<Self>) {
        self.share_capabilities();
        if self.life.state.status == AgentStatus::Retired {
            self.retire();
            return;
        }
        if self.life.state.status != AgentStatus::Unregistered {
            self.build_executor();
        }
        if let Some((reason, in_window)) = self.crashes.as_mut().and_then(|c| c.to_record.take()) {
            let command = AgentCommand::RecordRestart {
                reason,
                restarts_in_window: in_window,
                now: chrono::Utc::now(),
            };
            ctx.wait(self.execute(command, self.cause()).map(|_, _, _| ()));
        }
        self.announce(ctx);
    }
}

impl Supervised for AgentActor {
    fn restarting(&mut self, _: &mut Context<Self>) {
        if self.done {
            return;
        }
        let policy = self.shared.config.restart_policy;
        let crashes = self.crashes.get_or_insert_default();
        let reason = crashes
            .reason
            .take()
            .unwrap_or_else(|| "stopped unexpectedly".to_owned());
        self.shared.metrics.count_restart();
        match crashes.window.record(policy, Instant::now()) {
            Verdict::Restart { in_window } => crashes.to_record = Some((reason, in_window)),
            Verdict::GiveUp { in_window } => {
                let why = format!(
                    "gave up after {in_window} restarts within {}s (last: {reason})",
                    policy.within.as_secs()
                );
                tracing::error!(agent = %self.id, "{why}");
                let now = chrono::Utc::now();
                self.append_detached(vec![
                    AgentCommand::RecordRestart {
                        reason,
                        restarts_in_window: in_window,
                        now,
                    },
                    AgentCommand::MarkUnhealthy {
                        reason: why,
                        consecutive_failures: 0,
                        now,
                    },
                ]);
                self.done = true;
                self.shared
                    .dispatcher
                    .do_send(AgentDown { agent_id: self.id });
                self.shared.forget_agent(self.id);
            }
        }
    }
}

impl Handler<AgentCommandMsg> for AgentActor {
    type Result = AtomicResponse<Self, Result<u64, Error>>;
    fn handle(&mut self, msg: AgentCommandMsg, _: &mut Context<Self>) -> Self::Result {
        let cause = Cause::from_context(msg.context, self.cause());
        AtomicResponse::new(self.execute(msg.command, cause))
    }
}

/// Register the agent, or bring its capabilities and concurrency in line
/// with `definition` if it is registered already.
#[derive(Debug, Message)]
#[rtype(result = "Result<u64, Error>")]
pub(crate) struct Ensure {
    pub definition: AgentDefinition,
    pub context: crate::CommandContext,
}

impl Handler<Ensure> for AgentActor {
    type Result = AtomicResponse<Self, Result<u64, Error>>;
    fn handle(&mut self, msg: Ensure, _: &mut Context<Self>) -> Self::Result {
        let d = msg.definition;
        let now = chrono::Utc::now();
        let command = match self.life.state.status {
            AgentStatus::Unregistered => AgentCommand::Register {
                agent_id: self.id,
                name: d.name,
                capabilities: d.capabilities,
                max_concurrency: d.max_concurrency,
                executor: d.executor,
                now,
            },
            _ => AgentCommand::Update {
                capabilities: (*self.life.state.capabilities != *d.capabilities)
                    .then_some(d.capabilities),
                max_concurrency: (self.life.state.max_concurrency != d.max_concurrency)
                    .then_some(d.max_concurrency),
            },
        };
        let cause = Cause::from_context(msg.context, self.cause());
        AtomicResponse::new(self.execute(command, cause))
    }
}

/// Starts an agent actor under a supervisor on the node's arbiter; with
/// `preloaded` state its first start reads nothing.
pub(crate) fn start(
    id: AgentId,
    shared: Arc<Shared>,
    preloaded: Option<Box<persist::Loaded<AgentState>>>,
) -> Addr<AgentActor> {
    let arbiter = shared.arbiter.clone();
    Supervisor::start_in_arbiter(&arbiter, move |_| {
        let mut actor = AgentActor::new(id, shared);
        if let Some(loaded) = preloaded {
            *actor.life = Life::from_loaded(*loaded);
            actor.preloaded = true;
        }
        actor
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With more, `Supervisor<AgentActor>` (actix's 336 bytes and the
    /// actor) and tokio's 104 bytes around a task's future take the next
    /// 128-byte-aligned cell: 640 bytes per agent instead of 512.
    #[test]
    fn the_actor_fits_a_512_byte_task_cell() {
        assert!(size_of::<AgentActor>() <= 72, "{}", size_of::<AgentActor>());
        assert!(size_of::<Supervisor<AgentActor>>() <= 408);
    }
}
