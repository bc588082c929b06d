//! Writes that yield to appends.
//!
//! A read model's batch (rows and checkpoint) costs the writer more than
//! an append does, and nobody waits on it but its projector.
//! Run in the same turn as appends, it makes them wait for its rows; so
//! the writer holds such writes back while appends or other writes are
//! waiting, and runs them in a turn of their own once the queue is empty.
//! A write is held at most [`YIELD_LIMIT`]: under a load that never lets
//! the queue empty, it joins the next turn, so read models still follow.

use super::writer::Job;
use std::time::{Duration, Instant};

/// The longest a yielding write is held back.
pub(super) const YIELD_LIMIT: Duration = Duration::from_millis(2);

/// The writes held back, and since when the oldest has waited.
#[derive(Default)]
pub(super) struct HeldBack {
    jobs: Vec<Box<dyn Job>>,
    since: Option<Instant>,
}

impl HeldBack {
    pub(super) fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// Holds `jobs` back from `now`.
    pub(super) fn hold(&mut self, jobs: Vec<Box<dyn Job>>, now: Instant) {
        if jobs.is_empty() {
            return;
        }
        self.since.get_or_insert(now);
        self.jobs.extend(jobs);
    }

    /// The held writes that go into the next turn: all of them if nothing
    /// else is waiting (`others_wait` false) or the oldest has waited
    /// [`YIELD_LIMIT`]; otherwise none.
    pub(super) fn release(&mut self, others_wait: bool, now: Instant) -> Vec<Box<dyn Job>> {
        let overdue = self
            .since
            .is_some_and(|since| now.duration_since(since) >= YIELD_LIMIT);
        if others_wait && !overdue {
            return Vec::new();
        }
        self.since = None;
        std::mem::take(&mut self.jobs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use rusqlite::Connection;

    struct Noop;

    impl Job for Noop {
        fn run(&mut self, _: &Connection) -> bool {
            true
        }
        fn finish(self: Box<Self>, _: Result<(), Error>) {}
    }

    fn jobs(n: usize) -> Vec<Box<dyn Job>> {
        (0..n).map(|_| Box::new(Noop) as Box<dyn Job>).collect()
    }

    #[test]
    fn held_writes_wait_while_others_wait_and_go_when_none_do() {
        let start = Instant::now();
        let mut held = HeldBack::default();
        held.hold(jobs(2), start);
        assert!(held.release(true, start).is_empty());
        assert!(!held.is_empty());
        assert_eq!(held.release(false, start).len(), 2);
        assert!(held.is_empty());
    }

    #[test]
    fn a_held_write_goes_once_it_has_waited_the_limit() {
        let start = Instant::now();
        let mut held = HeldBack::default();
        held.hold(jobs(1), start);
        let later = start + YIELD_LIMIT / 2;
        // A write held later does not restart the oldest one's clock.
        held.hold(jobs(1), later);
        assert!(held.release(true, later).is_empty());
        assert_eq!(held.release(true, start + YIELD_LIMIT).len(), 2);
        // Released writes no longer count: the next one's clock starts anew.
        held.hold(jobs(1), start + YIELD_LIMIT);
        assert!(held.release(true, start + YIELD_LIMIT * 3 / 2).is_empty());
    }
}
