//! How long to wait before reconnecting to `/events`: doubling while attempts fail, capped.

use std::time::Duration;

/// Shortest wait, so a zero `reconnect_delay` cannot spin against a failing LiteFS.
const FLOOR: Duration = Duration::from_millis(1);

/// Reconnect delays: `first`, then doubling up to `max`; back to `first` after a healthy stream.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    /// The delay after a healthy connection ended.
    first: Duration,
    /// The cap.
    max: Duration,
    /// The delay the next call returns.
    next: Duration,
}

impl Backoff {
    /// Delays from `first` up to `max` (both at least 1 ms; `max` at least `first`).
    pub(crate) fn new(first: Duration, max: Duration) -> Self {
        let first = first.max(FLOOR);
        let max = max.max(first);
        Self {
            first,
            max,
            next: first,
        }
    }

    /// The delay to wait now; the one after it is twice as long, up to the cap.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = delay.saturating_mul(2).min(self.max);
        delay
    }

    /// Starts over from the first delay (the last connection worked).
    pub(crate) fn reset(&mut self) {
        self.next = self.first;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_and_reset() {
        let secs = Duration::from_secs;
        let mut backoff = Backoff::new(secs(1), secs(5));
        let delays: Vec<_> = (0..5).map(|_| backoff.next_delay()).collect();
        assert_eq!(delays, [secs(1), secs(2), secs(4), secs(5), secs(5)]);
        backoff.reset();
        assert_eq!(backoff.next_delay(), secs(1));
    }

    #[test]
    fn a_zero_delay_still_waits() {
        let mut backoff = Backoff::new(Duration::ZERO, Duration::ZERO);
        assert_eq!(backoff.next_delay(), FLOOR);
    }
}
