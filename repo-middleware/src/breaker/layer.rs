//! `CircuitBreakerLayer`.

use std::sync::{Arc, Mutex};

use tower::Layer;

use super::state::Machine;
use super::{BreakerConfig, BreakerState, CircuitBreaker, Shared};

/// Adds a circuit breaker. Every service made by this layer, and by its clones, shares one
/// breaker: add the same layer (or a clone) wherever calls should trip it together.
#[derive(Debug, Clone)]
pub struct CircuitBreakerLayer {
    shared: Arc<Shared>,
}

impl CircuitBreakerLayer {
    /// A closed breaker with `config`.
    pub fn new(config: BreakerConfig) -> Self {
        let name = config.name.clone();
        Self {
            shared: Arc::new(Shared {
                name,
                machine: Mutex::new(Machine::new(config)),
            }),
        }
    }

    /// The breaker's current state.
    pub fn state(&self) -> BreakerState {
        self.shared
            .machine
            .lock()
            .map(|m| m.state(tokio::time::Instant::now()))
            .unwrap_or(BreakerState::Open)
    }
}

impl Default for CircuitBreakerLayer {
    fn default() -> Self {
        Self::new(BreakerConfig::default())
    }
}

impl<S> Layer<S> for CircuitBreakerLayer {
    type Service = CircuitBreaker<S>;

    fn layer(&self, inner: S) -> CircuitBreaker<S> {
        CircuitBreaker::new(inner, self.shared.clone())
    }
}
