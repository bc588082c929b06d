//! How readers of the log (relays, projectors) wait between retries after
//! a failure: doubling from an initial delay, capped.

use std::time::Duration;

/// The delay before retry number `attempts` (1-based): `initial`, doubled
/// per further attempt, never above `max`.
pub fn backoff(initial: Duration, max: Duration, attempts: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(16));
    initial.saturating_mul(factor).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_doubles_up_to_the_cap() {
        let ms = |n| backoff(Duration::from_millis(100), Duration::from_secs(1), n).as_millis();
        assert_eq!(
            [ms(1), ms(2), ms(3), ms(4), ms(5), ms(60)],
            [100, 200, 400, 800, 1000, 1000]
        );
    }
}
