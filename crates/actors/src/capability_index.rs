//! The dispatcher's index of agents by what they can do: one list of agent
//! ids per distinct set of capabilities, so each agent is listed once
//! however many capabilities it has. A request for a capability gathers
//! the lists of every set that holds it (a node's agents have a few sets
//! between them). Lists grow by an eighth at a time: at 100,000 agents a
//! list that doubled could hold as many unused places as agents.
//!
//! Order within a list is not kept: scoring sorts candidates itself, ties
//! by agent id.

use maos_domain::{AgentId, Capability};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Default)]
pub(crate) struct CapabilityIndex {
    by_set: HashMap<Arc<[Capability]>, Vec<AgentId>>,
}

impl CapabilityIndex {
    /// Lists `agent` under `set`.
    pub(crate) fn insert(&mut self, agent: AgentId, set: &Arc<[Capability]>) {
        if set.is_empty() {
            return;
        }
        let ids = self.by_set.entry(Arc::clone(set)).or_default();
        if ids.len() == ids.capacity() {
            ids.reserve_exact(ids.len() / 8 + 4);
        }
        ids.push(agent);
    }

    /// Takes `agent` off the list of `set` (a scan of that list: agents
    /// change capabilities or leave rarely).
    pub(crate) fn remove(&mut self, agent: AgentId, set: &[Capability]) {
        let Some(ids) = self.by_set.get_mut(set) else {
            return;
        };
        if let Some(at) = ids.iter().position(|id| *id == agent) {
            ids.swap_remove(at);
        }
        if ids.is_empty() {
            self.by_set.remove(set);
        }
    }

    /// Every agent with `capability`, each once.
    pub(crate) fn with<'a>(
        &'a self,
        capability: &'a Capability,
    ) -> impl Iterator<Item = AgentId> + 'a {
        self.by_set
            .iter()
            .filter(move |(set, _)| set.contains(capability))
            .flat_map(|(_, ids)| ids.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> Arc<[Capability]> {
        names.iter().map(|n| Capability((*n).to_owned())).collect()
    }

    fn sorted(index: &CapabilityIndex, capability: &str) -> Vec<AgentId> {
        let capability = Capability(capability.to_owned());
        let mut ids: Vec<AgentId> = index.with(&capability).collect();
        ids.sort();
        ids
    }

    #[test]
    fn agents_are_found_by_each_capability_of_their_set_once() {
        let [a, b, c] = [(); 3].map(|()| AgentId(uuid::Uuid::now_v7()));
        let mut index = CapabilityIndex::default();
        index.insert(a, &set(&["rust", "sql"]));
        index.insert(b, &set(&["rust"]));
        index.insert(c, &set(&["sql", "rust"]));
        let mut rust = vec![a, b, c];
        rust.sort();
        assert_eq!(sorted(&index, "rust"), rust);
        let mut sql = vec![a, c];
        sql.sort();
        assert_eq!(sorted(&index, "sql"), sql);
        assert_eq!(sorted(&index, "go"), vec![]);

        index.remove(a, &set(&["rust", "sql"]));
        assert_eq!(sorted(&index, "sql"), vec![c]);
        assert!(!index.by_set.contains_key(&set(&["rust", "sql"])[..]));
        index.remove(b, &set(&["sql"])); // not listed there: nothing happens
        assert_eq!(sorted(&index, "rust").len(), 2);
    }

    #[test]
    fn lists_grow_by_an_eighth() {
        let mut index = CapabilityIndex::default();
        let rust = set(&["rust"]);
        for _ in 0..10_000 {
            index.insert(AgentId(uuid::Uuid::now_v7()), &rust);
        }
        let ids = &index.by_set[&rust];
        assert_eq!(ids.len(), 10_000);
        assert!(
            ids.capacity() <= 10_000 + 10_000 / 8 + 4,
            "{}",
            ids.capacity()
        );
    }
}
