//! Latency samples and percentiles.

use std::time::Duration;

/// Recorded durations, in microseconds.
#[derive(Debug, Default)]
pub struct Latencies {
    us: Vec<f64>,
}

impl Latencies {
    pub fn with_capacity(n: usize) -> Self {
        Latencies {
            us: Vec::with_capacity(n),
        }
    }

    pub fn record(&mut self, d: Duration) {
        self.us.push(d.as_secs_f64() * 1e6);
    }

    pub fn len(&self) -> usize {
        self.us.len()
    }

    pub fn is_empty(&self) -> bool {
        self.us.is_empty()
    }

    pub fn extend(&mut self, other: Latencies) {
        self.us.extend(other.us);
    }

    /// The `p`th percentile (nearest rank), 0 when empty.
    pub fn percentile_us(&mut self, p: f64) -> f64 {
        if self.us.is_empty() {
            return 0.0;
        }
        self.us.sort_by(f64::total_cmp);
        let rank = ((p / 100.0) * self.us.len() as f64).ceil() as usize;
        self.us[rank.clamp(1, self.us.len()) - 1]
    }
}
