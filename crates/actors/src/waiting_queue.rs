//! The dispatcher's requests that found no free agent, kept in arrival
//! order: one queue per capability, every request numbered as it arrives.
//!
//! A node can hold many waiting requests (a capability no agent has, or
//! far more tasks than slots), so nothing here walks them all: withdrawing
//! a request or replacing it is a lookup, and a pass that serves them
//! ([`WaitingQueue::serve`]) merges the capabilities' queues by number and
//! stops reading a capability at its first request that stays unserved.

use maos_domain::{Capability, TaskId, WorkflowId};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

/// Which task a request is for: a task waits at most once.
pub(crate) type TaskKey = (WorkflowId, TaskId);

/// Waiting requests `R`, each for one task and one capability.
#[derive(Debug)]
pub(crate) struct WaitingQueue<R> {
    /// The number the next request gets.
    next: u64,
    /// Per capability, its requests by number (arrival order).
    queues: HashMap<Capability, BTreeMap<u64, (TaskKey, R)>>,
    /// Where each task's request is.
    index: HashMap<TaskKey, (Capability, u64)>,
}

impl<R> Default for WaitingQueue<R> {
    fn default() -> Self {
        WaitingQueue {
            next: 0,
            queues: HashMap::new(),
            index: HashMap::new(),
        }
    }
}

impl<R> WaitingQueue<R> {
    pub(crate) fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Queues `request` last, replacing any earlier request for its task.
    pub(crate) fn push(&mut self, key: TaskKey, capability: Capability, request: R) {
        self.remove(&key);
        let number = self.next;
        self.next += 1;
        self.index.insert(key.clone(), (capability.clone(), number));
        self.queues
            .entry(capability)
            .or_default()
            .insert(number, (key, request));
    }

    /// Takes the task's request out of the queue, if one waits.
    pub(crate) fn remove(&mut self, key: &TaskKey) -> Option<R> {
        let (capability, number) = self.index.remove(key)?;
        let queue = self.queues.get_mut(&capability)?;
        let (_, request) = queue.remove(&number)?;
        if queue.is_empty() {
            self.queues.remove(&capability);
        }
        Some(request)
    }

    /// Offers waiting requests to `grant` in arrival order. `grant` takes
    /// a request and gives it back if it stays unserved; then no later
    /// request for that capability is offered in this pass (the same agents
    /// would refuse it), so a pass costs at most one refusal per
    /// capability. An unserved request keeps its place.
    pub(crate) fn serve(&mut self, mut grant: impl FnMut(R) -> Option<R>) {
        let mut heads: BinaryHeap<Reverse<(u64, Capability)>> = self
            .queues
            .iter()
            .filter_map(|(capability, queue)| {
                let (&number, _) = queue.first_key_value()?;
                Some(Reverse((number, capability.clone())))
            })
            .collect();
        while let Some(Reverse((number, capability))) = heads.pop() {
            let Some(queue) = self.queues.get_mut(&capability) else {
                continue;
            };
            let Some((key, request)) = queue.remove(&number) else {
                continue;
            };
            match grant(request) {
                Some(unserved) => {
                    queue.insert(number, (key, unserved));
                }
                None => {
                    self.index.remove(&key);
                    match queue.first_key_value() {
                        Some((&next, _)) => heads.push(Reverse((next, capability))),
                        None => {
                            self.queues.remove(&capability);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u128) -> TaskKey {
        (WorkflowId(uuid::Uuid::from_u128(n)), TaskId::from("t"))
    }

    fn cap(name: &str) -> Capability {
        Capability::from(name)
    }

    /// Serves everything for capabilities in `free` (once each per call
    /// budget), recording the order requests were offered in.
    fn serve_with(queue: &mut WaitingQueue<u128>, free: &mut HashMap<&str, u32>) -> Vec<u128> {
        let mut offered = Vec::new();
        let caps: HashMap<u128, &str> = [(1, "a"), (2, "b"), (3, "a"), (4, "c"), (5, "b")]
            .into_iter()
            .collect();
        queue.serve(|request| {
            offered.push(request);
            let slots = free.get_mut(caps[&request]).filter(|n| **n > 0);
            match slots {
                Some(n) => {
                    *n -= 1;
                    None
                }
                None => Some(request),
            }
        });
        offered
    }

    fn filled() -> WaitingQueue<u128> {
        let mut queue = WaitingQueue::default();
        for (n, c) in [(1, "a"), (2, "b"), (3, "a"), (4, "c"), (5, "b")] {
            queue.push(key(n), cap(c), n);
        }
        queue
    }

    #[test]
    fn it_offers_requests_in_arrival_order_across_capabilities() {
        let mut queue = filled();
        let mut free = HashMap::from([("a", 9), ("b", 9), ("c", 9)]);
        assert_eq!(serve_with(&mut queue, &mut free), vec![1, 2, 3, 4, 5]);
        assert!(queue.is_empty());
        assert_eq!(queue.index.len(), 0);
    }

    #[test]
    fn a_refused_capability_is_not_offered_again_in_the_pass_and_keeps_its_place() {
        let mut queue = filled();
        // One slot for `a`, none for `b`, one for `c`.
        let mut free = HashMap::from([("a", 1), ("c", 1)]);
        assert_eq!(serve_with(&mut queue, &mut free), vec![1, 2, 3, 4]);
        assert_eq!(queue.index.len(), 3);
        // Next pass: `b`'s first request is still first, then `a`'s.
        let mut free = HashMap::from([("a", 1), ("b", 2)]);
        assert_eq!(serve_with(&mut queue, &mut free), vec![2, 3, 5]);
        assert!(queue.is_empty());
    }

    #[test]
    fn a_request_is_withdrawn_or_replaced_by_its_task() {
        let mut queue = filled();
        assert_eq!(queue.remove(&key(3)), Some(3));
        assert_eq!(queue.remove(&key(3)), None);
        // Asking again goes to the back, once.
        queue.push(key(1), cap("a"), 1);
        assert_eq!(queue.index.len(), 4);
        let mut free = HashMap::from([("a", 9), ("b", 9), ("c", 9)]);
        assert_eq!(serve_with(&mut queue, &mut free), vec![2, 4, 5, 1]);
    }

    #[test]
    fn a_request_moved_to_another_capability_leaves_the_first() {
        let mut queue = filled();
        queue.push(key(4), cap("a"), 4);
        let mut free = HashMap::from([("a", 9)]);
        // 4 now waits under `a` (the test maps 4 to `c`, which has no slot,
        // so it is refused there, proving it was offered from `a`'s queue
        // and not from a stale `c` entry: offered once, after 3).
        assert_eq!(serve_with(&mut queue, &mut free), vec![1, 2, 3, 4]);
        assert_eq!(queue.index.len(), 3);
    }
}
