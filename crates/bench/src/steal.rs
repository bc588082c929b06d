//! CPU time the hypervisor gave to other guests while a phase ran ("steal",
//! from Linux's `/proc/stat`). On a virtual machine, milliseconds stolen at
//! once make a latency tail that no change to maos can remove, so the
//! latency phases report it beside their percentiles.

use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the counters are read: a stall of tens of milliseconds shows
/// in one window.
const WINDOW: Duration = Duration::from_millis(100);

/// A window in which more than this share of the CPU time was stolen
/// counts as a stall.
const STALL_PCT: f64 = 10.0;

/// Samples the counters on a thread of its own until [`StealMeter::stop`].
pub struct StealMeter {
    stop: Arc<AtomicBool>,
    sampler: JoinHandle<Vec<Ticks>>,
}

/// Cumulative CPU ticks of all CPUs: stolen, and in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ticks {
    steal: u64,
    all: u64,
}

impl StealMeter {
    pub fn start() -> StealMeter {
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = std::thread::spawn({
            let stop = stop.clone();
            move || {
                let mut samples: Vec<Ticks> = read().into_iter().collect();
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(WINDOW);
                    samples.extend(read());
                }
                samples
            }
        });
        StealMeter { stop, sampler }
    }

    /// The share stolen over the whole phase and in its worst window;
    /// `null` where `/proc/stat` cannot be read (not Linux).
    pub fn stop(self) -> Value {
        self.stop.store(true, Ordering::Relaxed);
        let samples = self.sampler.join().unwrap_or_default();
        summary(&samples)
    }
}

fn summary(samples: &[Ticks]) -> Value {
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        return Value::Null;
    };
    let pct = |from: &Ticks, to: &Ticks| {
        let all = to.all.saturating_sub(from.all);
        if all == 0 {
            return 0.0;
        }
        to.steal.saturating_sub(from.steal) as f64 * 100.0 / all as f64
    };
    let windows: Vec<f64> = samples.windows(2).map(|w| pct(&w[0], &w[1])).collect();
    let worst = windows.iter().copied().fold(0.0, f64::max);
    json!({
        "steal_pct": round1(pct(first, last)),
        "worst_window_pct": round1(worst),
        "windows": windows.len(),
        "windows_over_10_pct": windows.iter().filter(|&&p| p > STALL_PCT).count(),
        "window_ms": WINDOW.as_millis(),
    })
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn read() -> Option<Ticks> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    parse(text.lines().next()?)
}

/// The aggregate `cpu` line: user nice system idle iowait irq softirq
/// steal, then guest times (already counted in user and nice).
fn parse(line: &str) -> Option<Ticks> {
    let mut fields = line.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let values: Vec<u64> = fields
        .take(8)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let steal = *values.get(7)?;
    Some(Ticks {
        steal,
        all: values.iter().sum(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_line_gives_steal_and_all_but_guest_time() {
        let line = "cpu  431098 0 116584 158998 20218 0 17959 5571 900 0";
        assert_eq!(
            parse(line),
            Some(Ticks {
                steal: 5571,
                all: 431098 + 116584 + 158998 + 20218 + 17959 + 5571,
            })
        );
        assert_eq!(parse("cpu0 1 2 3 4 5 6 7 8"), None);
        assert_eq!(parse("cpu 1 2 3"), None);
    }

    #[test]
    fn the_worst_window_and_the_stalls_are_found() {
        let at = |steal, all| Ticks { steal, all };
        // 20 ticks a window: 0, 5 (25%) and 1 (5%) stolen.
        let samples = [at(0, 0), at(0, 20), at(5, 40), at(6, 60)];
        let s = summary(&samples);
        assert_eq!(s["steal_pct"], 10.0);
        assert_eq!(s["worst_window_pct"], 25.0);
        assert_eq!(s["windows"], 3);
        assert_eq!(s["windows_over_10_pct"], 1);
        assert_eq!(summary(&[]), Value::Null);
    }
}
