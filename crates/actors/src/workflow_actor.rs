//! `WorkflowActor`: one per live workflow, under an actix `Supervisor`.
//!
//! Every message becomes a workflow command, decided on the current state,
//! appended with the expected version and only then evolved, atomically
//! (no other message of this actor interleaves). What the new events ask
//! for is done afterwards: ready tasks are offered to the dispatcher,
//! deadlines and retry back-offs are armed as timers, ended attempts give
//! their slot back, aborted ones have their process killed. Deadlines and
//! back-offs live in the events, so a rehydrated actor re-arms them.

use crate::Error;
use crate::agent_actor::AgentActor;
use crate::executor::Job;
use crate::messages::*;
use crate::node::Shared;
use crate::persist::{self, Cause};
use actix::WeakAddr;
use actix::prelude::*;
use maos_domain::workflow::{
    self, TaskStatus, Workflow, WorkflowCommand, WorkflowEvent, WorkflowState,
};
use maos_domain::{Attempt, TaskId, WorkflowId};
use maos_store::{EventStore, ExpectedVersion};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

mod handlers;

/// A command from the node's API, with who caused it.
#[derive(Debug, Message)]
#[rtype(result = "Result<u64, Error>")]
pub(crate) struct WorkflowCommandMsg {
    pub command: WorkflowCommand,
    pub context: crate::CommandContext,
}

#[derive(Debug, Message)]
#[rtype(result = "()")]
struct DeadlineDue {
    task_id: TaskId,
    attempt: Attempt,
}

#[derive(Debug, Message)]
#[rtype(result = "()")]
struct RetryDue {
    task_id: TaskId,
}

#[derive(Debug, Message)]
#[rtype(result = "()")]
struct Finish;

pub(crate) struct WorkflowActor {
    id: WorkflowId,
    stream: String,
    shared: Arc<Shared>,
    state: WorkflowState,
    correlation_id: Option<Uuid>,
    last_event_id: Option<Uuid>,
    /// The latest event about each task: what its next command is caused by.
    task_cause: HashMap<TaskId, Uuid>,
    timers: HashMap<TaskId, SpawnHandle>,
    /// Tasks offered to the dispatcher, and since when.
    requested: HashMap<TaskId, Instant>,
    /// Agents holding (or about to hold) each task's attempt.
    agents: HashMap<TaskId, WeakAddr<AgentActor>>,
    /// When each task's current attempt was handed out.
    handed_out: HashMap<TaskId, Instant>,
    events_since_snapshot: u64,
    finished: bool,
    /// A workflow id just made for a submission or fork: it has no events
    /// yet, so the first start skips reading the store (a restart reads it).
    fresh: bool,
}

impl WorkflowActor {
    fn new(id: WorkflowId, shared: Arc<Shared>, fresh: bool) -> Self {
        WorkflowActor {
            fresh,
            id,
            stream: id.stream(),
            shared,
            state: WorkflowState::default(),
            correlation_id: None,
            last_event_id: None,
            task_cause: HashMap::new(),
            timers: HashMap::new(),
            requested: HashMap::new(),
            agents: HashMap::new(),
            handed_out: HashMap::new(),
            events_since_snapshot: 0,
            finished: false,
        }
    }

    /// The cause of an internal command about `task` (or the workflow).
    fn cause(&self, task: Option<&TaskId>) -> Cause {
        Cause {
            correlation_id: self.correlation_id.unwrap_or_else(Uuid::now_v7),
            causation_id: task
                .and_then(|t| self.task_cause.get(t).copied())
                .or(self.last_event_id),
            user_id: None,
        }
    }

    /// decide → append (expected version) → evolve → react.
    fn execute(
        &mut self,
        command: WorkflowCommand,
        cause: Cause,
    ) -> ResponseActFuture<Self, Result<u64, Error>> {
        let started = Instant::now();
        let events = match workflow::decide(&self.state, command) {
            Ok(events) => events,
            Err(e) => return Box::pin(fut::ready(Err(e.into()))),
        };
        if events.is_empty() {
            return Box::pin(fut::ready(Ok(self.state.version)));
        }
        let new = persist::encode(&events, &cause, &self.shared.source("workflow"));
        let ids: Vec<Uuid> = new.iter().map(|e| e.id).collect();
        let store = self.shared.store.clone();
        let stream = self.stream.clone();
        let expected = ExpectedVersion::after(self.state.version);
        Box::pin(
            async move {
                let append_started = Instant::now();
                let result = store.append(&stream, expected, new).await;
                (result, append_started.elapsed())
            }
            .into_actor(self)
            .map(move |(result, append_took), act, ctx| {
                    act.shared.metrics.append_latency.record(append_took);
                    let appended = match result {
                        Ok(appended) => appended,
                        Err(e) => {
                            tracing::warn!(workflow = %act.id, error = %e, "append failed; rehydrating");
                            ctx.stop();
                            return Err(e.into());
                        }
                    };
                    act.correlation_id.get_or_insert(cause.correlation_id);
                    act.apply(&events, &ids, ctx);
                    act.shared.metrics.command_latency.record(started.elapsed());
                    act.shared.metrics.command_seconds.observe(started.elapsed());
                    Ok(appended.last_version)
                }),
        )
    }

    /// Runs an internal command; a refusal is expected now and then (the
    /// task moved on meanwhile) and only logged.
    fn run_internal(&mut self, command: WorkflowCommand, task: &TaskId, ctx: &mut Context<Self>) {
        let cause = self.cause(Some(task));
        let id = self.id;
        ctx.wait(self.execute(command, cause).map(move |result, _, _| {
            if let Err(e) = result {
                tracing::debug!(workflow = %id, error = %e, "internal command refused");
            }
        }));
    }

    /// Folds appended events and does what they ask for.
    fn apply(&mut self, events: &[WorkflowEvent], ids: &[Uuid], ctx: &mut Context<Self>) {
        for (event, id) in events.iter().zip(ids) {
            self.state = workflow::evolve(std::mem::take(&mut self.state), event);
            self.last_event_id = Some(*id);
            if let Some(task) = event.task_id() {
                self.task_cause.insert(task.clone(), *id);
            }
            self.react(event, ctx);
        }
        self.events_since_snapshot += events.len() as u64;
        let interval = self.shared.config.snapshot_interval(self.state.tasks.len());
        if self.events_since_snapshot >= interval && !self.finished {
            self.events_since_snapshot = 0;
            let (store, stream, version) = (
                self.shared.store.clone(),
                self.stream.clone(),
                self.state.version,
            );
            let state = self.state.clone();
            tokio::spawn(async move {
                if let Err(e) = persist::snapshot(&store, &stream, version, &state).await {
                    tracing::warn!(%stream, error = %e, "snapshot not saved");
                }
            });
        }
    }

    fn react(&mut self, event: &WorkflowEvent, ctx: &mut Context<Self>) {
        use WorkflowEvent as E;
        match event {
            E::TaskReady(e) => self.request(&e.task_id, ctx),
            E::TaskReassigned(e) => {
                self.end_attempt(&e.task_id, e.attempt, Ending::Neutral, ctx);
                self.request(&e.task_id, ctx);
            }
            E::TaskRetryScheduled(e) => {
                let wait = until(e.not_before);
                let task_id = e.task_id.clone();
                self.arm(&e.task_id, wait, RetryDue { task_id }, ctx);
            }
            E::TaskAssigned(e) => {
                let wait = until(e.deadline);
                let msg = DeadlineDue {
                    task_id: e.task_id.clone(),
                    attempt: e.attempt,
                };
                self.arm(&e.task_id, wait, msg, ctx);
                self.hand_out(&e.task_id, e.attempt, ctx);
            }
            E::TaskCompleted(e) => {
                let ending = if e.overridden {
                    Ending::Neutral
                } else {
                    let duration_ms = self
                        .handed_out
                        .get(&e.task_id)
                        .map_or(0, |t| t.elapsed().as_millis() as u64);
                    Ending::Succeeded { duration_ms }
                };
                self.end_attempt(&e.task_id, e.attempt, ending, ctx);
            }
            E::TaskFailed(e) => self.end_attempt(&e.task_id, e.attempt, Ending::Failed, ctx),
            E::TaskTimedOut(e) => self.end_attempt(&e.task_id, e.attempt, Ending::Failed, ctx),
            E::TaskEscalated(e) => {
                let attempt = self
                    .state
                    .tasks
                    .get(&e.task_id)
                    .map_or(Attempt(0), |t| t.attempt);
                self.end_attempt(&e.task_id, attempt, Ending::Neutral, ctx);
            }
            E::TaskCancelled(e) => {
                let attempt = self
                    .state
                    .tasks
                    .get(&e.task_id)
                    .map_or(Attempt(0), |t| t.attempt);
                self.end_attempt(&e.task_id, attempt, Ending::Neutral, ctx);
            }
            E::Completed(_) | E::Failed(_) | E::Cancelled(_) => {
                self.finished = true;
                ctx.notify(Finish);
            }
            _ => {}
        }
    }

    /// Offers an assignable task to the dispatcher (once).
    fn request(&mut self, task_id: &TaskId, ctx: &mut Context<Self>) {
        let Some(task) = self.state.tasks.get(task_id) else {
            return;
        };
        let assignable = match task.status {
            TaskStatus::Ready => true,
            TaskStatus::RetryWaiting => task
                .retry_not_before
                .is_none_or(|nb| nb <= chrono::Utc::now()),
            _ => false,
        };
        if !assignable || self.requested.contains_key(task_id) {
            return;
        }
        let now = Instant::now();
        self.requested.insert(task_id.clone(), now);
        let me = ctx.address().downgrade();
        self.shared.dispatcher.do_send(RequestAgent {
            workflow_id: self.id,
            task_id: task_id.clone(),
            capability: task.spec.capability.clone(),
            avoid: task.avoid_agent,
            reply_to: me.clone().recipient(),
            owner: me.recipient(),
            requested_at: now,
        });
    }

    fn arm<M>(&mut self, task_id: &TaskId, wait: Duration, msg: M, ctx: &mut Context<Self>)
    where
        M: Message<Result = ()> + Send + 'static,
        Self: Handler<M>,
    {
        if let Some(old) = self.timers.remove(task_id) {
            ctx.cancel_future(old);
        }
        let handle = ctx.notify_later(msg, wait);
        self.timers.insert(task_id.clone(), handle);
    }

    /// Sends the assigned attempt to its agent.
    fn hand_out(&mut self, task_id: &TaskId, attempt: Attempt, ctx: &mut Context<Self>) {
        let requested_at = self.requested.remove(task_id);
        self.handed_out.insert(task_id.clone(), Instant::now());
        let Some(agent) = self.agents.get(task_id).and_then(WeakAddr::upgrade) else {
            return; // rehydrated: the attempt's agent is not known; its deadline will tell
        };
        agent.do_send(RunTask {
            job: self.job(task_id, attempt),
            reply_to: ctx.address().downgrade().recipient(),
        });
        if let Some(at) = requested_at {
            self.shared.metrics.dispatch_latency.record(at.elapsed());
        }
    }

    fn job(&self, task_id: &TaskId, attempt: Attempt) -> Job {
        let task = &self.state.tasks[task_id];
        let dependencies: serde_json::Map<String, serde_json::Value> = task
            .spec
            .needs
            .iter()
            .filter_map(|d| {
                let output = self.state.tasks.get(d)?.output.clone()?;
                Some((d.0.clone(), output))
            })
            .collect();
        Job {
            workflow_id: self.id,
            task_id: task_id.clone(),
            attempt,
            capability: task.spec.capability.clone(),
            instruction: task.spec.instruction.clone(),
            input: serde_json::json!({
                "workflow": self.state.input,
                "task": task_id,
                "attempt": attempt,
                "dependencies": dependencies,
            }),
            workflow_dir: self.workflow_dir(),
        }
    }

    /// An attempt ended: stop its timer, give its slot back, and kill its
    /// process if it still runs (timed out, cancelled, reassigned, or its
    /// result came from elsewhere).
    fn end_attempt(
        &mut self,
        task_id: &TaskId,
        attempt: Attempt,
        ending: Ending,
        ctx: &mut Context<Self>,
    ) {
        if let Some(timer) = self.timers.remove(task_id) {
            ctx.cancel_future(timer);
        }
        if self.requested.remove(task_id).is_some() {
            self.shared.dispatcher.do_send(Withdraw {
                workflow_id: self.id,
                task_id: task_id.clone(),
            });
        }
        self.handed_out.remove(task_id);
        let agent = self.agents.remove(task_id);
        if let Some(agent) = agent.and_then(|a| a.upgrade()) {
            tracing::debug!(workflow = %self.id, task = %task_id, attempt = attempt.0, "aborting the attempt on its agent");
            agent.do_send(AbortTask {
                workflow_id: self.id,
                task_id: task_id.clone(),
                attempt,
            });
        } else if attempt.0 > 0 {
            // Rehydrated: the attempt may have been started by a node that
            // died; its process group, if any is left, goes now.
            let workspace = self.workflow_dir().join(&task_id.0);
            if crate::executor::process::kill_left_behind(&workspace, attempt.0) {
                tracing::info!(workflow = %self.id, task = %task_id, attempt = attempt.0,
                    "killed the process group an earlier node left running");
            }
        }
        self.shared.dispatcher.do_send(Release {
            workflow_id: self.id,
            task_id: task_id.clone(),
            ending,
        });
    }

    fn workflow_dir(&self) -> std::path::PathBuf {
        self.shared
            .config
            .workspace_root
            .join(self.id.0.to_string())
    }

    /// After (re)hydration: put back what the events say must be going on.
    fn rearm(&mut self, ctx: &mut Context<Self>) {
        if !self.state.status.is_active() {
            if self.state.id.is_some() {
                self.finished = true;
                ctx.notify(Finish);
            }
            return;
        }
        let me = ctx.address().downgrade();
        let tasks: Vec<(TaskId, TaskStatus)> = self
            .state
            .tasks
            .iter()
            .map(|(id, t)| (id.clone(), t.status))
            .collect();
        self.requested.clear();
        for (task_id, status) in tasks {
            let task = &self.state.tasks[&task_id];
            if status.has_live_attempt() {
                if let Some(agent_id) = task.assignee {
                    self.shared.dispatcher.do_send(Occupy {
                        workflow_id: self.id,
                        task_id: task_id.clone(),
                        agent_id,
                        owner: me.clone().recipient(),
                    });
                }
                if let Some(deadline) = task.deadline {
                    let msg = DeadlineDue {
                        task_id: task_id.clone(),
                        attempt: task.attempt,
                    };
                    self.arm(&task_id, until(deadline), msg, ctx);
                }
            } else if status == TaskStatus::RetryWaiting {
                let wait = task.retry_not_before.map_or(Duration::ZERO, until);
                let msg = RetryDue {
                    task_id: task_id.clone(),
                };
                self.arm(&task_id, wait, msg, ctx);
            } else if status == TaskStatus::Ready {
                self.request(&task_id, ctx);
            }
        }
    }
}

/// How long until `at` (zero if it passed).
fn until(at: chrono::DateTime<chrono::Utc>) -> Duration {
    (at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO)
}

impl Actor for WorkflowActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if self.finished {
            // Stays idle until its last address is dropped. Stopping here
            // would make the supervisor restart it in a tight loop while a
            // caller still holds an address.
            return;
        }
        if std::mem::take(&mut self.fresh) {
            return;
        }
        let store = self.shared.store.clone();
        let stream = self.stream.clone();
        ctx.wait(
            async move { persist::load::<Workflow>(&store, &stream).await }
                .into_actor(self)
                .map(|loaded, act, ctx| match loaded {
                    Ok(loaded) => {
                        act.state = loaded.state;
                        act.correlation_id = loaded.correlation_id;
                        act.last_event_id = loaded.last_event_id;
                        act.rearm(ctx);
                    }
                    Err(e) => {
                        tracing::error!(workflow = %act.id, error = %e, "cannot rehydrate; retrying");
                        ctx.run_later(Duration::from_secs(1), |_, ctx| ctx.stop());
                    }
                }),
        );
    }
}

impl Supervised for WorkflowActor {
    fn restarting(&mut self, _: &mut Context<Self>) {
        self.shared.metrics.count_restart();
        self.timers.clear();
        self.requested.clear();
    }
}

/// Starts a workflow actor under a supervisor on the node's arbiter.
/// Starts the actor of workflow `id`; `fresh`: the id was just made and
/// has no events (nothing to read back).
pub(crate) fn start(id: WorkflowId, shared: Arc<Shared>, fresh: bool) -> Addr<WorkflowActor> {
    let arbiter = shared.arbiter.clone();
    Supervisor::start_in_arbiter(&arbiter, move |_| WorkflowActor::new(id, shared, fresh))
}
