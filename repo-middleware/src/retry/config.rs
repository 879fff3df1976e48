//! `RetryConfig`: attempts, backoff and budget, with documented defaults.

use std::time::Duration;

/// How the retry layer behaves. Defaults: 3 attempts in all, backoff from 10 ms doubling up
/// to 1 s with up to 100 % jitter, and a budget that allows retries of 20 % of the first
/// attempts of the last 10 s plus 10 per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryConfig {
    pub(crate) max_attempts: u32,
    pub(crate) min_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) jitter: f64,
    pub(crate) budget_ttl: Duration,
    pub(crate) budget_min_per_sec: u32,
    pub(crate) budget_ratio: f32,
    pub(crate) retry_forwarded_ambiguous: bool,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            min_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_secs(1),
            jitter: 1.0,
            budget_ttl: Duration::from_secs(10),
            budget_min_per_sec: 10,
            budget_ratio: 0.2,
            retry_forwarded_ambiguous: true,
        }
    }
}

impl RetryConfig {
    /// Attempts in all, the first included (default 3; at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The first backoff and the largest one (defaults 10 ms and 1 s). Each retry waits
    /// twice as long as the one before, plus jitter, never longer than `max`.
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.max_backoff = max.max(min).max(Duration::from_millis(1));
        self.min_backoff = min.min(self.max_backoff);
        self
    }

    /// Random extra wait, as a fraction of the base backoff (default 1.0 = up to +100 %;
    /// clamped to 0..=100).
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = if jitter.is_nan() {
            0.0
        } else {
            jitter.clamp(0.0, 100.0)
        };
        self
    }

    /// Whether a forwarded write whose outcome is unknown (the connection failed after it
    /// was sent) is retried (default: yes). It is safe because the primary records each
    /// forwarded request id in the same transaction as the write and answers a retry from
    /// that record. Writes that ran locally are never retried after they were dispatched.
    pub fn retry_forwarded_ambiguous(mut self, enabled: bool) -> Self {
        self.retry_forwarded_ambiguous = enabled;
        self
    }

    /// The retry budget: over the last `ttl`, retries may not exceed `ratio` of first
    /// attempts, plus `min_per_sec` each second (defaults 10 s, 20 %, 10/s).
    pub fn budget(mut self, ttl: Duration, min_per_sec: u32, ratio: f32) -> Self {
        self.budget_ttl = ttl.clamp(Duration::from_secs(1), Duration::from_secs(60));
        self.budget_min_per_sec = min_per_sec;
        self.budget_ratio = if ratio.is_nan() {
            0.0
        } else {
            ratio.clamp(0.0, 1000.0)
        };
        self
    }
}
