//! `StackConfig`: the standard layers, in the standard order.

use std::time::Duration;

use repo_core::BoxedLayer;

use crate::{
    BreakerConfig, CircuitBreakerLayer, RetryConfig, RetryLayer, TelemetryLayer, TimeoutLayer,
};

/// The standard stack: telemetry → timeout → retry → circuit breaker, outermost first.
///
/// [`StackConfig::layers`] returns them boxed, ready for `RepoBuilder::boxed_layer`; add the
/// forwarding layer (repo-litefs) after them, so that it sits just above the executor.
#[derive(Debug, Clone, Default)]
pub struct StackConfig {
    timeout: Option<Duration>,
    retry: RetryConfig,
    breaker: BreakerConfig,
}

impl StackConfig {
    /// The default timeout of calls without one (default [`TimeoutLayer::DEFAULT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The retry configuration.
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// The circuit breaker configuration.
    pub fn breaker(mut self, breaker: BreakerConfig) -> Self {
        self.breaker = breaker;
        self
    }

    /// The four layers, boxed, outermost first.
    pub fn layers(&self) -> Vec<BoxedLayer> {
        self.layers_and_breaker().0
    }

    /// The four layers, boxed, outermost first, and a handle on their circuit breaker (the
    /// layer's clones share one breaker), to read its [`state`](CircuitBreakerLayer::state),
    /// e.g. for a health endpoint.
    pub fn layers_and_breaker(&self) -> (Vec<BoxedLayer>, CircuitBreakerLayer) {
        let breaker = CircuitBreakerLayer::new(self.breaker.clone());
        let layers = vec![
            BoxedLayer::new(TelemetryLayer::new()),
            BoxedLayer::new(TimeoutLayer::new(
                self.timeout.unwrap_or(TimeoutLayer::DEFAULT),
            )),
            BoxedLayer::new(RetryLayer::new(self.retry)),
            BoxedLayer::new(breaker.clone()),
        ];
        (layers, breaker)
    }
}
