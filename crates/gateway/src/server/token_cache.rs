//! Verified tokens kept for a while, so that most requests don't ask the
//! database who holds their token.
//!
//! An entry is trusted for the cache's TTL. Once it has expired, the first
//! request to see it looks the token up again; the requests that come while
//! that lookup runs keep trusting the entry, up to twice the TTL, instead of
//! each asking the database too. A burst of requests at expiry thus makes
//! one query, not one each. The twice-the-TTL bound covers a lookup that
//! never finishes (its request was dropped): past it, requests ask the
//! database again until one of them gets an answer.

use super::auth::Principal;
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// Verified tokens by hash.
#[derive(Debug)]
pub(super) struct TokenCache {
    ttl: Duration,
    entries: RwLock<HashMap<String, Entry>>,
}

#[derive(Debug)]
struct Entry {
    principal: Principal,
    verified_at: Instant,
    /// A request is looking the token up again.
    refreshing: bool,
}

/// What the cache says of a token.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Cached {
    /// Trust it: it was verified within the TTL, or another request is
    /// verifying it again right now.
    Trusted(Principal),
    /// Ask the database, then [`TokenCache::put`] (or, on an error,
    /// [`TokenCache::abandon`]) the answer.
    Ask,
}

impl TokenCache {
    pub(super) fn new(ttl: Duration) -> TokenCache {
        TokenCache {
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// What to do with the token of hash `hash` at `now`. An expired entry
    /// is handed to the first caller to see it ([`Cached::Ask`]); callers
    /// after it are told to trust it until it is twice the TTL old.
    pub(super) fn get(&self, hash: &str, now: Instant) -> Cached {
        let age = |e: &Entry| now.saturating_duration_since(e.verified_at);
        {
            let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
            match entries.get(hash) {
                None => return Cached::Ask,
                Some(e) if age(e) < self.ttl => return Cached::Trusted(e.principal.clone()),
                Some(_) => {}
            }
        }
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = entries.get_mut(hash) else {
            return Cached::Ask;
        };
        let age = age(entry);
        if age < self.ttl || (entry.refreshing && age < self.ttl * 2) {
            return Cached::Trusted(entry.principal.clone());
        }
        entry.refreshing = true;
        Cached::Ask
    }

    /// Records what the database said of `hash` at `now`: who holds it, or
    /// nobody (unknown or revoked), which drops the entry.
    pub(super) fn put(&self, hash: String, principal: Option<Principal>, now: Instant) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        match principal {
            Some(principal) => {
                entries.insert(
                    hash,
                    Entry {
                        principal,
                        verified_at: now,
                        refreshing: false,
                    },
                );
            }
            None => {
                entries.remove(&hash);
            }
        }
    }

    /// A lookup of `hash` failed: the next request to see it asks again.
    pub(super) fn abandon(&self, hash: &str) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = entries.get_mut(hash) {
            entry.refreshing = false;
        }
    }

    /// Drops the token `token_id` (revoked here).
    pub(super) fn forget_token(&self, token_id: &str) {
        self.entries
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, e| e.principal.token_id != token_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::auth::Role;

    const TTL: Duration = Duration::from_secs(30);

    fn alice() -> Principal {
        Principal {
            token_id: "t1".to_owned(),
            subject: "alice".to_owned(),
            role: Role::Operator,
        }
    }

    #[test]
    fn an_expired_token_is_asked_for_once_while_the_others_trust_it() {
        let cache = TokenCache::new(TTL);
        let start = Instant::now();
        assert_eq!(cache.get("h", start), Cached::Ask, "never seen");
        cache.put("h".to_owned(), Some(alice()), start);
        assert_eq!(cache.get("h", start + TTL / 2), Cached::Trusted(alice()));

        let expired = start + TTL;
        assert_eq!(cache.get("h", expired), Cached::Ask, "the first to see it");
        for _ in 0..8 {
            assert_eq!(
                cache.get("h", expired),
                Cached::Trusted(alice()),
                "a lookup is under way"
            );
        }
        // The lookup's answer starts a new TTL.
        cache.put("h".to_owned(), Some(alice()), expired);
        assert_eq!(cache.get("h", expired + TTL / 2), Cached::Trusted(alice()));
    }

    /// A cache that verified alice's token at the returned instant and
    /// has just handed its expired entry to a lookup.
    fn expired_and_asked() -> (TokenCache, Instant) {
        let cache = TokenCache::new(TTL);
        let start = Instant::now();
        cache.put("h".to_owned(), Some(alice()), start);
        assert_eq!(cache.get("h", start + TTL), Cached::Ask);
        (cache, start)
    }

    #[test]
    fn a_lookup_that_fails_or_never_ends_does_not_keep_the_token_trusted() {
        let (cache, start) = expired_and_asked();
        cache.abandon("h");
        assert_eq!(cache.get("h", start + TTL), Cached::Ask, "asked again");
        // That lookup never answers: at twice the TTL, the next asks.
        assert_eq!(cache.get("h", start + TTL * 2), Cached::Ask);
    }

    #[test]
    fn a_token_found_revoked_or_revoked_here_is_no_longer_trusted() {
        let (cache, start) = expired_and_asked();
        cache.put("h".to_owned(), None, start + TTL);
        assert_eq!(cache.get("h", start + TTL), Cached::Ask);

        cache.put("h".to_owned(), Some(alice()), start);
        cache.forget_token("t1");
        assert_eq!(cache.get("h", start), Cached::Ask);
    }
}
