//! The machine's flush rate F: a loop of 4 KiB write + fdatasync on a file
//! in the directory under test. Durable appends can't beat it for long, so
//! it is the yardstick every store figure is compared with.

use crate::stats::Latencies;
use serde_json::{Value, json};
use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::Instant;

/// One measurement of F.
#[derive(Debug, Clone, Copy)]
pub struct FlushRate {
    pub p50_us: f64,
    pub p99_us: f64,
}

impl FlushRate {
    /// Flushes per second at the median flush time.
    pub fn per_s(&self) -> f64 {
        1e6 / self.p50_us.max(0.001)
    }

    pub fn to_json(self) -> Value {
        json!({ "p50_us": round(self.p50_us), "p99_us": round(self.p99_us), "per_s": round(self.per_s()) })
    }
}

/// Measures F with `samples` write+fdatasync pairs in `dir`.
pub fn measure(dir: &Path, samples: usize) -> std::io::Result<FlushRate> {
    let path = dir.join(format!("flush-probe-{}", std::process::id()));
    let file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(&path)?;
    let block = [0x5au8; 4096];
    let mut latencies = Latencies::with_capacity(samples);
    for _ in 0..samples {
        let start = Instant::now();
        file.write_all_at(&block, 0)?;
        file.sync_data()?;
        latencies.record(start.elapsed());
    }
    drop(file);
    std::fs::remove_file(&path)?;
    Ok(FlushRate {
        p50_us: latencies.percentile_us(50.0),
        p99_us: latencies.percentile_us(99.0),
    })
}

/// Rounds to one decimal for reports.
pub fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
