//! One shared copy of each distinct set of capabilities on a node: its
//! agents have a few sets between them, and a node may hold 100,000 agents,
//! so each agent's state, dispatcher slot and scoring candidate point at
//! the shared copy rather than holding their own.

use maos_domain::Capability;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// The node's capability sets. Never shrinks: it holds as many sets as
/// distinct ones were ever registered on this node.
#[derive(Debug, Default)]
pub(crate) struct CapabilitySets(Mutex<HashSet<Arc<[Capability]>>>);

impl CapabilitySets {
    /// The shared copy of `capabilities`.
    pub(crate) fn share(&self, capabilities: &[Capability]) -> Arc<[Capability]> {
        let mut sets = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(set) = sets.get(capabilities) {
            return Arc::clone(set);
        }
        let set: Arc<[Capability]> = capabilities.into();
        sets.insert(Arc::clone(&set));
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_sets_share_one_copy() {
        let sets = CapabilitySets::default();
        let build_test = [Capability::from("build"), Capability::from("test")];
        let a = sets.share(&build_test);
        let b = sets.share(&build_test.clone());
        assert!(Arc::ptr_eq(&a, &b));
        let other = sets.share(&[Capability::from("test"), Capability::from("build")]);
        assert!(
            !Arc::ptr_eq(&a, &other),
            "order is part of the set as stored"
        );
        assert_eq!(
            &*other,
            &[Capability::from("test"), Capability::from("build")]
        );
    }
}
