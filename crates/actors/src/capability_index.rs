//! The dispatcher's index of agents by what they can do: one list of agent
//! ids per distinct set of capabilities (each set numbered), so each agent is listed once
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

/// A set's number in the index: what a dispatcher slot keeps instead of
/// the set itself (4 bytes rather than a 16-byte pointer).
pub(crate) type SetNumber = u32;

#[derive(Debug, Default)]
pub(crate) struct CapabilityIndex {
    numbers: HashMap<Arc<[Capability]>, SetNumber>,
    /// By number: each set and the agents that have it. Never shrinks (a
    /// node's agents have a few sets between them).
    sets: Vec<(Arc<[Capability]>, Vec<AgentId>)>,
}

impl CapabilityIndex {
    /// Lists `agent` under `set`; returns the set's number.
    pub(crate) fn insert(&mut self, agent: AgentId, set: &Arc<[Capability]>) -> SetNumber {
        let number = match self.numbers.get(set) {
            Some(&number) => number,
            None => {
                let number = SetNumber::try_from(self.sets.len()).unwrap_or(SetNumber::MAX);
                self.numbers.insert(Arc::clone(set), number);
                self.sets.push((Arc::clone(set), Vec::new()));
                number
            }
        };
        let ids = &mut self.sets[number as usize].1;
        if ids.len() == ids.capacity() {
            ids.reserve_exact(ids.len() / 8 + 4);
        }
        ids.push(agent);
        number
    }

    /// Takes `agent` off the list of set `number` (a scan of that list:
    /// agents change capabilities or leave rarely).
    pub(crate) fn remove(&mut self, agent: AgentId, number: SetNumber) {
        let Some((_, ids)) = self.sets.get_mut(number as usize) else {
            return;
        };
        if let Some(at) = ids.iter().position(|id| *id == agent) {
            ids.swap_remove(at);
        }
    }

    /// Set `number` (empty for a number it never gave).
    pub(crate) fn set(&self, number: SetNumber) -> &[Capability] {
        self.sets
            .get(number as usize)
            .map_or(&[], |(set, _)| &set[..])
    }

    /// Every agent with `capability`, each once, with its set.
    pub(crate) fn with<'a>(
        &'a self,
        capability: &'a Capability,
    ) -> impl Iterator<Item = (&'a Arc<[Capability]>, AgentId)> + 'a {
        self.sets
            .iter()
            .filter(move |(set, _)| set.contains(capability))
            .flat_map(|(set, ids)| ids.iter().map(move |id| (set, *id)))
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
        let mut ids: Vec<AgentId> = index.with(&capability).map(|(_, id)| id).collect();
        ids.sort();
        ids
    }

    #[test]
    fn agents_are_found_by_each_capability_of_their_set_once() {
        let [a, b, c] = [(); 3].map(|()| AgentId(uuid::Uuid::now_v7()));
        let mut index = CapabilityIndex::default();
        let rust_sql = index.insert(a, &set(&["rust", "sql"]));
        let rust_only = index.insert(b, &set(&["rust"]));
        index.insert(c, &set(&["sql", "rust"]));
        assert_eq!(
            index.insert(b, &set(&["rust"])),
            rust_only,
            "a set keeps its number"
        );
        index.remove(b, rust_only);
        assert_eq!(index.set(rust_sql), &*set(&["rust", "sql"]));
        let mut rust = vec![a, b, c];
        rust.sort();
        assert_eq!(sorted(&index, "rust"), rust);
        let mut sql = vec![a, c];
        sql.sort();
        assert_eq!(sorted(&index, "sql"), sql);
        assert_eq!(sorted(&index, "go"), vec![]);

        index.remove(a, rust_sql);
        assert_eq!(sorted(&index, "sql"), vec![c]);
        index.remove(b, rust_sql); // not listed there: nothing happens
        assert_eq!(sorted(&index, "rust").len(), 2);
    }

    #[test]
    fn lists_grow_by_an_eighth() {
        let mut index = CapabilityIndex::default();
        let rust = set(&["rust"]);
        let mut number = 0;
        for _ in 0..10_000 {
            number = index.insert(AgentId(uuid::Uuid::now_v7()), &rust);
        }
        let ids = &index.sets[number as usize].1;
        assert_eq!(ids.len(), 10_000);
        assert!(
            ids.capacity() <= 10_000 + 10_000 / 8 + 4,
            "{}",
            ids.capacity()
        );
    }
}
