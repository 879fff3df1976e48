//! `TimeoutLayer`.

use std::time::Duration;

use tower::Layer;

use super::Timeout;

/// Bounds every call that has no deadline of its own by a default duration (5 s unless
/// set). A per-call `.timeout(d)` always wins, longer or shorter.
#[derive(Debug, Clone, Copy)]
pub struct TimeoutLayer {
    default: Duration,
}

impl TimeoutLayer {
    /// The default of [`TimeoutLayer::default`]: 5 seconds.
    pub const DEFAULT: Duration = Duration::from_secs(5);

    /// A timeout layer with `default` for calls without a deadline.
    pub fn new(default: Duration) -> Self {
        Self { default }
    }
}

impl Default for TimeoutLayer {
    fn default() -> Self {
        Self::new(Self::DEFAULT)
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout::new(inner, self.default)
    }
}
