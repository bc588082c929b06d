//! Bounded restart intensity: at most `max_restarts` restarts within
//! `within`; past that an actor gives up and stops for good.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How many restarts an actor may have in a window before it gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    pub max_restarts: u32,
    pub within: Duration,
}

impl Default for RestartPolicy {
    /// 5 restarts in 60 seconds.
    fn default() -> Self {
        RestartPolicy {
            max_restarts: 5,
            within: Duration::from_secs(60),
        }
    }
}

/// What the supervisor should do about one more crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Restart; this is restart number `in_window` of the window.
    Restart { in_window: u32 },
    /// Too many restarts: stop for good.
    GiveUp { in_window: u32 },
}

/// The restarts an actor had recently.
#[derive(Debug, Clone, Default)]
pub(crate) struct RestartWindow {
    restarts: VecDeque<Instant>,
}

impl RestartWindow {
    /// Records a crash at `now` and decides.
    pub(crate) fn record(&mut self, policy: RestartPolicy, now: Instant) -> Verdict {
        while self
            .restarts
            .front()
            .is_some_and(|t| now.duration_since(*t) >= policy.within)
        {
            self.restarts.pop_front();
        }
        self.restarts.push_back(now);
        let in_window = u32::try_from(self.restarts.len()).unwrap_or(u32::MAX);
        if in_window > policy.max_restarts {
            Verdict::GiveUp { in_window }
        } else {
            Verdict::Restart { in_window }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_gives_up_past_the_intensity_and_forgets_old_restarts() {
        let policy = RestartPolicy {
            max_restarts: 2,
            within: Duration::from_secs(10),
        };
        let mut window = RestartWindow::default();
        let t0 = Instant::now();
        assert_eq!(window.record(policy, t0), Verdict::Restart { in_window: 1 });
        assert_eq!(
            window.record(policy, t0 + Duration::from_secs(1)),
            Verdict::Restart { in_window: 2 }
        );
        assert_eq!(
            window.record(policy, t0 + Duration::from_secs(2)),
            Verdict::GiveUp { in_window: 3 }
        );
        // At 11.5 s the first two have left the window; the third stays.
        assert_eq!(
            window.record(policy, t0 + Duration::from_millis(11_500)),
            Verdict::Restart { in_window: 2 }
        );
    }
}
