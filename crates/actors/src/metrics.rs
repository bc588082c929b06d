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
    /// Workflow commands, as a histogram for the metrics endpoint (the
    /// samples above stop at their cap; this never does).
    pub command_seconds: Histogram,
    /// Task attempts run by this node's agents, start to finish.
    pub attempt_seconds: Histogram,
}

/// Upper bounds of [`Histogram`] buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0, 300.0,
];

/// A Prometheus histogram: counts per bucket, sum and count, lock-free.
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// How many observations.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Appends the histogram in Prometheus text format.
    pub fn render(&self, out: &mut String, name: &str, help: &str) {
        use std::fmt::Write;
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += n.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count();
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {count}");
    }
}

impl NodeMetrics {
    pub(crate) fn count_restart(&self) {
        self.restarts.fetch_add(1, Ordering::Relaxed);
    }
}
