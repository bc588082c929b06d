//! Throttled progress notes from a running attempt.

use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where an executor sends progress lines. At most one line per interval
/// goes through (the first of each interval); the rest are dropped, so a
/// chatty process can't flood the event log.
#[derive(Clone)]
pub struct Progress {
    sink: Arc<dyn Fn(String) + Send + Sync>,
    interval: Duration,
    last: Option<Instant>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("interval", &self.interval)
            .finish()
    }
}

/// Longest progress note recorded; longer lines are cut.
const MAX_NOTE_BYTES: usize = 500;

impl Progress {
    /// Progress that calls `sink` at most once per `interval`.
    pub fn new(interval: Duration, sink: Arc<dyn Fn(String) + Send + Sync>) -> Self {
        Progress {
            sink,
            interval,
            last: None,
        }
    }

    /// Progress that goes nowhere.
    pub fn discard() -> Self {
        Progress::new(Duration::MAX, Arc::new(|_| {}))
    }

    /// Offers one line; sent if the interval since the last one elapsed.
    pub fn line(&mut self, line: &str) {
        let line = line.trim_end();
        if line.is_empty() {
            return;
        }
        let now = Instant::now();
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < self.interval)
        {
            return;
        }
        self.last = Some(now);
        (self.sink)(cut(line, MAX_NOTE_BYTES).to_owned());
    }
}

/// The longest prefix of `s` of at most `max` bytes on a char boundary.
pub(crate) fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn it_passes_one_line_per_interval() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let mut progress = Progress::new(
            Duration::from_secs(3600),
            Arc::new(move |l| sink.lock().unwrap().push(l)),
        );
        progress.line("first\n");
        progress.line("second");
        progress.line("");
        assert_eq!(*seen.lock().unwrap(), vec!["first".to_owned()]);
    }

    #[test]
    fn it_cuts_on_char_boundaries() {
        assert_eq!(cut("héllo", 2), "h");
        assert_eq!(cut("abc", 10), "abc");
    }
}
