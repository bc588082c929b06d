//! What a node measures about itself: command and dispatch latencies,
//! restarts. Read by benchmarks and (later) the metrics endpoint.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Most samples a [`LatencySamples`] keeps; later ones are not recorded.
const MAX_SAMPLES: usize = 1 << 20;

/// Latency samples in microseconds.
#[derive(Debug, Default)]
pub struct LatencySamples {
    samples: Mutex<Vec<u32>>,
}

impl LatencySamples {
    /// Records one sample.
    pub fn record(&self, elapsed: Duration) {
        let micros = u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX);
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        if samples.len() < MAX_SAMPLES {
            samples.push(micros);
        }
    }

    /// The `p`-th percentile (0–100) in microseconds; `None` with no samples.
    pub fn percentile(&self, p: f64) -> Option<u32> {
        let mut samples = self
            .samples
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        let rank = ((p / 100.0) * (samples.len() - 1) as f64).round() as usize;
        samples.get(rank.min(samples.len() - 1)).copied()
    }

    /// How many samples were recorded.
    pub fn len(&self) -> usize {
        self.samples.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// No samples yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every sample.
    pub fn clear(&self) {
        self.samples
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// Counters and latencies of one node.
#[derive(Debug, Default)]
pub struct NodeMetrics {
    /// A workflow command from its arrival at the actor to its reply, its
    /// events durable.
    pub command_latency: LatencySamples,
    /// The store append inside each command (the durable part).
    pub append_latency: LatencySamples,
    /// From a task becoming assignable to its attempt reaching the agent.
    pub dispatch_latency: LatencySamples,
    /// Actor restarts by a supervisor.
    pub restarts: AtomicU64,
    /// Attempts that finished (any outcome).
    pub attempts_finished: AtomicU64,
}

impl NodeMetrics {
    pub(crate) fn count_restart(&self) {
        self.restarts.fetch_add(1, Ordering::Relaxed);
    }
}
