//! `BreakerConfig`: thresholds and timings, with documented defaults.

use std::time::Duration;

/// How a circuit breaker decides. Defaults: open after 5 consecutive failures, or when at
/// least 10 of the last 20 calls are known and half or more failed; stay open 5 s; then let
/// 1 probe through at a time and close after 2 successful probes.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerConfig {
    pub(crate) name: String,
    pub(crate) consecutive_failures: u32,
    pub(crate) window: usize,
    pub(crate) min_calls: usize,
    pub(crate) failure_rate: f64,
    pub(crate) open_for: Duration,
    pub(crate) half_open_probes: u32,
    pub(crate) half_open_successes: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            name: "default".into(),
            consecutive_failures: 5,
            window: 20,
            min_calls: 10,
            failure_rate: 0.5,
            open_for: Duration::from_secs(5),
            half_open_probes: 1,
            half_open_successes: 2,
        }
    }
}

impl BreakerConfig {
    /// A label for logs and metrics (default `default`), e.g. the primary's name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Failures in a row that open the breaker (default 5; at least 1).
    pub fn consecutive_failures(mut self, n: u32) -> Self {
        self.consecutive_failures = n.max(1);
        self
    }

    /// Opens when at least `min_calls` of the last `window` calls are known and the share
    /// that failed is at least `rate` (defaults 20, 10, 0.5). A rate above 1 disables this.
    pub fn failure_rate(mut self, rate: f64, window: usize, min_calls: usize) -> Self {
        self.window = window.max(1);
        self.min_calls = min_calls.clamp(1, self.window);
        self.failure_rate = if rate.is_nan() { 1.1 } else { rate.max(0.0) };
        self
    }

    /// How long the breaker stays open before probing (default 5 s).
    pub fn open_for(mut self, duration: Duration) -> Self {
        self.open_for = duration;
        self
    }

    /// Probes allowed at a time when half-open, and successes needed to close (defaults 1
    /// and 2; at least 1 each).
    pub fn half_open(mut self, probes: u32, successes: u32) -> Self {
        self.half_open_probes = probes.max(1);
        self.half_open_successes = successes.max(1);
        self
    }
}
