//! DELEGATE: the dispatcher matches tasks that need an agent with agents
//! that have the capability and a free slot, using the domain's scoring.
//!
//! It holds no durable state: agents announce themselves (`AgentUp`),
//! workflows ask (`RequestAgent`), give slots back (`Release`) and, after a
//! restart, say which slots their live attempts hold (`Occupy`). A request
//! that can't be served waits in arrival order and is served when a slot
//! frees up or an agent registers or recovers: no polling.
//!
//! It also watches agent health: an agent that fails `unhealthy_after`
//! attempts in a row is marked unhealthy (an event, through its actor), its
//! running tasks are taken back by their workflows, and after
//! `recover_after` it is marked healthy again.

use crate::agent_actor::AgentActor;
use crate::capability_index::{CapabilityIndex, SetNumber};
use crate::messages::*;
use crate::metrics::NodeMetrics;
use crate::waiting_queue::WaitingQueue;
use actix::prelude::*;
use actix::{WeakAddr, WeakRecipient};
use maos_domain::agent::AgentCommand;
use maos_domain::scoring::{Candidate, History, best, score_candidates};
use maos_domain::{AgentId, Capability, TaskId, WorkflowId};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Most candidates recorded in a `task.assigned` event (the best ones).
pub(crate) const MAX_RECORDED_CANDIDATES: usize = 16;

/// Agent statistics DELEGATE scores with, per agent and capability. The
/// node keeps its own from the attempts it sees; a richer source (the
/// agent-stats read model) can be plugged in through `NodeConfig`.
pub trait AgentHistory: Send + Sync + std::fmt::Debug + 'static {
    fn history(&self, agent: AgentId, capability: &Capability) -> Option<History>;
}

/// Health rules.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HealthPolicy {
    pub unhealthy_after: u32,
    pub recover_after: Duration,
}

#[derive(Debug)]
struct Slot {
    addr: WeakAddr<AgentActor>,
    /// Its capabilities' number in the capability index.
    set: SetNumber,
    max_concurrency: u32,
    /// How many tasks it holds (the tasks themselves are in `held`).
    load: u32,
    /// Saturates: health only compares it with a small threshold.
    consecutive_failures: u16,
    healthy: bool,
}

#[derive(Debug, Default, Clone, Copy)]
struct Record {
    completed: u64,
    failed: u64,
    total_ms: u64,
}

#[derive(Debug)]
struct Held {
    agent_id: AgentId,
    capability: Option<Capability>,
    owner: WeakRecipient<TakeBack>,
    /// Counted in the agent's `load` (its slot existed when it was held).
    counted: bool,
}

pub(crate) struct Dispatcher {
    agents: HashMap<AgentId, Slot>,
    by_capability: CapabilityIndex,
    waiting: WaitingQueue<RequestAgent>,
    held: HashMap<(WorkflowId, TaskId), Held>,
    records: HashMap<(AgentId, Capability), Record>,
    history: Option<Arc<dyn AgentHistory>>,
    health: HealthPolicy,
    metrics: Arc<NodeMetrics>,
}

impl Dispatcher {
    pub(crate) fn new(
        health: HealthPolicy,
        history: Option<Arc<dyn AgentHistory>>,
        metrics: Arc<NodeMetrics>,
    ) -> Self {
        Dispatcher {
            agents: HashMap::new(),
            by_capability: CapabilityIndex::default(),
            waiting: WaitingQueue::default(),
            held: HashMap::new(),
            records: HashMap::new(),
            history,
            health,
            metrics,
        }
    }

    fn history_of(&self, agent: AgentId, capability: &Capability) -> Option<History> {
        if let Some(source) = &self.history {
            return source.history(agent, capability);
        }
        self.records
            .get(&(agent, capability.clone()))
            .map(|r| History {
                completed: r.completed,
                failed: r.failed,
                mean_duration_ms: r.total_ms.checked_div(r.completed).unwrap_or(0),
            })
    }

    /// Serves `request` now if an agent is free; gives it back otherwise.
    fn try_grant(&mut self, request: RequestAgent) -> Option<RequestAgent> {
        let Some(reply_to) = request.reply_to.upgrade() else {
            return None; // the workflow is gone
        };
        let candidates: Vec<Candidate> = self
            .by_capability
            .with(&request.capability)
            .filter_map(|(set, id)| self.agents.get(&id).map(|slot| (set, id, slot)))
            .map(|(set, id, slot)| Candidate {
                agent_id: id,
                capabilities: Arc::clone(set),
                healthy: slot.healthy,
                load: slot.load,
                max_concurrency: slot.max_concurrency,
                history: self.history_of(id, &request.capability),
            })
            .collect();
        let mut scores = score_candidates(&request.capability, request.avoid, &candidates);
        let Some(chosen) = best(&scores).map(|s| s.agent_id) else {
            return Some(request);
        };
        scores.truncate(MAX_RECORDED_CANDIDATES);
        let slot = self.agents.get_mut(&chosen)?;
        let key = (request.workflow_id, request.task_id.clone());
        slot.load += 1;
        self.held.insert(
            key,
            Held {
                agent_id: chosen,
                capability: Some(request.capability.clone()),
                owner: request.owner.clone(),
                counted: true,
            },
        );
        reply_to.do_send(Granted {
            task_id: request.task_id,
            agent_id: chosen,
            agent: slot.addr.clone(),
            candidates: scores,
            requested_at: request.requested_at,
        });
        None
    }

    /// Serves waiting requests in arrival order while slots are free (see
    /// [`WaitingQueue::serve`]: at most one failed scoring per capability).
    fn serve_waiting(&mut self) {
        let mut waiting = std::mem::take(&mut self.waiting);
        waiting.serve(|request| self.try_grant(request));
        self.waiting = waiting;
    }

    fn mark_unhealthy(&mut self, agent_id: AgentId, failures: u32, ctx: &mut Context<Self>) {
        let Some(slot) = self.agents.get_mut(&agent_id) else {
            return;
        };
        slot.healthy = false;
        if let Some(addr) = slot.addr.upgrade() {
            addr.do_send(AgentCommandMsg {
                command: AgentCommand::MarkUnhealthy {
                    reason: format!("{failures} attempts failed in a row"),
                    consecutive_failures: failures,
                    now: chrono::Utc::now(),
                },
                context: Default::default(),
            });
        }
        // Rare, so the held tasks are searched rather than indexed by agent.
        for ((_, task_id), held) in &self.held {
            if held.agent_id != agent_id {
                continue;
            }
            if let Some(owner) = held.owner.upgrade() {
                owner.do_send(TakeBack {
                    task_id: task_id.clone(),
                    reason: format!("agent {agent_id} became unhealthy"),
                });
            }
        }
        ctx.run_later(self.health.recover_after, move |this, _| {
            let Some(slot) = this.agents.get_mut(&agent_id) else {
                return;
            };
            if let Some(addr) = slot.addr.upgrade() {
                addr.do_send(AgentCommandMsg {
                    command: AgentCommand::Recover {
                        reason: "cool-down elapsed".to_owned(),
                        now: chrono::Utc::now(),
                    },
                    context: Default::default(),
                });
            }
        });
    }
}

impl Actor for Dispatcher {
    type Context = Context<Self>;
}

impl Handler<AgentUp> for Dispatcher {
    type Result = ();
    fn handle(&mut self, msg: AgentUp, _: &mut Context<Self>) {
        let slot = self.agents.entry(msg.agent_id).or_insert_with(|| Slot {
            addr: msg.addr.clone(),
            set: SetNumber::MAX,
            max_concurrency: 0,
            healthy: true,
            load: 0,
            consecutive_failures: 0,
        });
        slot.addr = msg.addr;
        slot.max_concurrency = msg.max_concurrency;
        if msg.healthy && !slot.healthy {
            slot.consecutive_failures = 0;
        }
        slot.healthy = msg.healthy;
        if *self.by_capability.set(slot.set) != *msg.capabilities {
            self.by_capability.remove(msg.agent_id, slot.set);
            slot.set = self.by_capability.insert(msg.agent_id, &msg.capabilities);
        }
        if !self.waiting.is_empty() {
            self.serve_waiting();
        }
    }
}

impl Handler<AgentDown> for Dispatcher {
    type Result = ();
    fn handle(&mut self, msg: AgentDown, _: &mut Context<Self>) {
        if let Some(slot) = self.agents.remove(&msg.agent_id) {
            self.by_capability.remove(msg.agent_id, slot.set);
            // Its load went with its slot (rare: searched, not indexed).
            for held in self.held.values_mut() {
                if held.agent_id == msg.agent_id {
                    held.counted = false;
                }
            }
        }
    }
}

impl Handler<RequestAgent> for Dispatcher {
    type Result = ();
    fn handle(&mut self, msg: RequestAgent, _: &mut Context<Self>) {
        let key = (msg.workflow_id, msg.task_id.clone());
        if self.held.contains_key(&key) {
            return; // already granted; the workflow will use or release it
        }
        self.waiting.remove(&key);
        if let Some(unserved) = self.try_grant(msg) {
            let capability = unserved.capability.clone();
            self.waiting.push(key, capability, unserved);
        }
    }
}

impl Handler<Withdraw> for Dispatcher {
    type Result = ();
    fn handle(&mut self, msg: Withdraw, _: &mut Context<Self>) {
        self.waiting.remove(&(msg.workflow_id, msg.task_id));
    }
}

impl Handler<Occupy> for Dispatcher {
    type Result = ();
    fn handle(&mut self, msg: Occupy, _: &mut Context<Self>) {
        let key = (msg.workflow_id, msg.task_id);
        let previous = self.held.remove(&key);
        let mut counted = false;
        let mut capability = None;
        if let Some(previous) = previous {
            capability = previous.capability;
            if previous.agent_id == msg.agent_id {
                counted = previous.counted;
            } else if previous.counted
                && let Some(slot) = self.agents.get_mut(&previous.agent_id)
            {
                slot.load = slot.load.saturating_sub(1);
            }
        }
        if !counted && let Some(slot) = self.agents.get_mut(&msg.agent_id) {
            slot.load += 1;
            counted = true;
        }
        self.held.insert(
            key,
            Held {
                agent_id: msg.agent_id,
                capability,
                owner: msg.owner,
                counted,
            },
        );
    }
}

impl Handler<Release> for Dispatcher {
    type Result = ();
    fn handle(&mut self, msg: Release, ctx: &mut Context<Self>) {
        let key = (msg.workflow_id, msg.task_id);
        let Some(held) = self.held.remove(&key) else {
            return;
        };
        let agent_id = held.agent_id;
        let mut unhealthy = None;
        if let Some(slot) = self.agents.get_mut(&agent_id) {
            if held.counted {
                slot.load = slot.load.saturating_sub(1);
            }
            match msg.ending {
                Ending::Succeeded { .. } => slot.consecutive_failures = 0,
                Ending::Failed => {
                    slot.consecutive_failures = slot.consecutive_failures.saturating_add(1);
                    if slot.healthy
                        && u32::from(slot.consecutive_failures) >= self.health.unhealthy_after
                    {
                        unhealthy = Some(u32::from(slot.consecutive_failures));
                    }
                }
                Ending::Unused | Ending::Neutral => {}
            }
        }
        if let Some(capability) = held.capability {
            let record = self.records.entry((agent_id, capability)).or_default();
            match msg.ending {
                Ending::Succeeded { duration_ms } => {
                    record.completed += 1;
                    record.total_ms += duration_ms;
                }
                Ending::Failed => record.failed += 1,
                Ending::Unused | Ending::Neutral => {}
            }
        }
        if msg.ending != Ending::Unused {
            self.metrics
                .attempts_finished
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        if let Some(failures) = unhealthy {
            self.mark_unhealthy(agent_id, failures, ctx);
        }
        if !self.waiting.is_empty() {
            self.serve_waiting();
        }
    }
}

/// How many agents can be dispatched to (registered, running, not retired).
#[derive(Debug, Message)]
#[rtype(result = "usize")]
pub(crate) struct CountAgents;

impl Handler<CountAgents> for Dispatcher {
    type Result = usize;
    fn handle(&mut self, _: CountAgents, _: &mut Context<Self>) -> usize {
        self.agents.len()
    }
}

#[cfg(test)]
mod tests {
    /// A node may hold 100,000 slots in one hash map: at 24 bytes (and a
    /// 16-byte key) its table stays in a smaller allocation.
    #[test]
    fn a_slot_is_small() {
        assert!(
            size_of::<super::Slot>() <= 24,
            "{}",
            size_of::<super::Slot>()
        );
    }
}
