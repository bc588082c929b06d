//! The events this store handle's writer committed last, kept in memory so
//! that live followers on this node ([`Subscription`](crate::Subscription):
//! projectors, relays, event streams) take them without a query.
//!
//! The writer records each batch's new events before it raises the head
//! signal, so a follower woken by the signal finds them here. The events
//! kept are always one run of consecutive positions: a batch that does not
//! follow on (another node, or another process, wrote in between) starts
//! the run again. A reader is answered from here only when the run holds
//! the very next position it needs; otherwise it reads the log, as it
//! would without this. So nothing is skipped, and an answer from here is
//! exactly what the log holds at those positions.

use crate::RecordedEvent;
use std::collections::VecDeque;
use std::sync::Mutex;

/// Most events kept.
const MAX_EVENTS: usize = 4_096;
/// Most bytes of event text kept (payloads, metadata, names).
const MAX_BYTES: usize = 8 << 20;

/// The last committed run of events.
#[derive(Debug, Default)]
pub(crate) struct Recent {
    run: Mutex<Run>,
}

#[derive(Debug, Default)]
struct Run {
    events: VecDeque<RecordedEvent>,
    bytes: usize,
}

impl Recent {
    /// Keeps a committed batch's new events (in position order).
    pub(crate) fn record(&self, events: Vec<RecordedEvent>) {
        let Some(first) = events.first() else {
            return;
        };
        let mut run = self.lock();
        let follows_on = run
            .events
            .back()
            .is_none_or(|last| last.position + 1 == first.position);
        if !follows_on {
            run.events.clear();
            run.bytes = 0;
        }
        for event in events {
            run.bytes += size(&event);
            run.events.push_back(event);
        }
        while run.events.len() > MAX_EVENTS || (run.bytes > MAX_BYTES && run.events.len() > 1) {
            if let Some(old) = run.events.pop_front() {
                run.bytes -= size(&old);
            }
        }
    }

    /// Up to `limit` events from the one after `after_position`, if the run
    /// holds that one; `None` sends the reader to the log.
    pub(crate) fn after(&self, after_position: u64, limit: usize) -> Option<Vec<RecordedEvent>> {
        let run = self.lock();
        let first = run.events.front()?.position;
        let wanted = after_position.checked_add(1)?;
        let last = run.events.back()?.position;
        if wanted < first || wanted > last {
            return None;
        }
        let skip = usize::try_from(wanted - first).ok()?;
        Some(run.events.iter().skip(skip).take(limit).cloned().collect())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Run> {
        // A panic while holding the lock leaves a consistent run (each
        // push or pop is whole), so a poisoned lock is still usable.
        self.run
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The bytes an event's text takes, for the budget.
fn size(event: &RecordedEvent) -> usize {
    event.event_type.len()
        + event.stream.len()
        + event.source.len()
        + event.data.len()
        + event.metadata.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use uuid::Uuid;

    fn at(position: u64) -> RecordedEvent {
        RecordedEvent {
            id: Uuid::now_v7(),
            event_type: "tests.thing.happened".to_owned(),
            stream: "thing-1".to_owned(),
            version: position,
            position,
            timestamp: Utc::now(),
            source: "tests".to_owned(),
            data: "{}".to_owned(),
            metadata: "{}".to_owned(),
        }
    }

    fn positions(events: Option<Vec<RecordedEvent>>) -> Option<Vec<u64>> {
        events.map(|e| e.iter().map(|e| e.position).collect())
    }

    #[test]
    fn answers_only_from_the_next_position_it_holds() {
        let recent = Recent::default();
        assert_eq!(positions(recent.after(0, 10)), None);
        recent.record((5..=8).map(at).collect());
        assert_eq!(
            positions(recent.after(3, 10)),
            None,
            "6 is missing before 5"
        );
        assert_eq!(positions(recent.after(4, 10)), Some(vec![5, 6, 7, 8]));
        assert_eq!(positions(recent.after(6, 1)), Some(vec![7]));
        assert_eq!(positions(recent.after(8, 10)), None, "nothing after 8");
    }

    #[test]
    fn a_batch_that_does_not_follow_on_starts_the_run_again() {
        let recent = Recent::default();
        recent.record((1..=3).map(at).collect());
        recent.record((5..=6).map(at).collect());
        assert_eq!(
            positions(recent.after(2, 10)),
            None,
            "4 was written elsewhere"
        );
        assert_eq!(positions(recent.after(4, 10)), Some(vec![5, 6]));
    }

    #[test]
    fn keeps_at_most_its_budget() {
        let recent = Recent::default();
        let total = MAX_EVENTS as u64 + 10;
        recent.record((1..=total).map(at).collect());
        assert_eq!(
            positions(recent.after(0, 1)),
            None,
            "the oldest were dropped"
        );
        assert_eq!(positions(recent.after(10, 1)), Some(vec![11]));
        let mut big = at(total + 1);
        big.data = "x".repeat(MAX_BYTES);
        recent.record(vec![big, at(total + 2)]);
        assert_eq!(positions(recent.after(total + 1, 5)), Some(vec![total + 2]));
        assert_eq!(
            positions(recent.after(total, 5)),
            None,
            "over the byte budget"
        );
    }
}
