//! Circuit breaker: stops calling a failing dependency for a while, then probes it.
//!
//! Closed → open when `consecutive_failures` calls in a row failed, or when at least
//! `min_calls` of the last `window` calls were recorded and the share that failed reached
//! `failure_rate`. While open, calls fail at once with [`RepoError::CircuitOpen`] and the
//! inner service is not touched (not even `poll_ready`). After `open_for` the breaker is
//! half-open: up to `half_open_probes` calls go through at a time; `half_open_successes`
//! successes close it, any failure opens it again.
//!
//! Only failures of the infrastructure count ([`RepoError::is_transient`], and timeouts
//! after the write was dispatched): a unique violation means the database answered, so it
//! counts as a success. A call cancelled before it finished (an outer timeout dropped it)
//! counts as a failure. State changes are logged and counted (see the crate docs).
//!
//! tower has no circuit breaker; the crates that offer one (e.g. `failsafe`) neither know
//! which repository errors are the dependency's fault nor use tokio's clock, which the
//! tests pause. So this one is written here, in two small parts: [`state`] holds the state
//! machine with no I/O, this module the service.

mod config;
mod layer;
pub mod state;

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use repo_core::{CommitState, RepoError, Request, Response};
use tokio::time::Instant;
use tower::Service;

pub use config::BreakerConfig;
pub use layer::CircuitBreakerLayer;
pub use state::BreakerState;

use state::{Admission, Machine};

/// What all services of one breaker share.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The configured label, for logs and metrics.
    pub(crate) name: String,
    /// The state machine, behind a lock that is never held across an await.
    pub(crate) machine: Mutex<Machine>,
}

/// The service of [`CircuitBreakerLayer`].
#[derive(Debug, Clone)]
pub struct CircuitBreaker<S> {
    inner: S,
    shared: Arc<Shared>,
    /// Set by `poll_ready` when the breaker refuses: `call` then fails without the inner
    /// service, which was not polled.
    refuse: bool,
}

impl<S> CircuitBreaker<S> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>) -> Self {
        Self {
            inner,
            shared,
            refuse: false,
        }
    }

    /// The breaker's current state.
    pub fn state(&self) -> BreakerState {
        self.shared
            .machine
            .lock()
            .map(|m| m.state(Instant::now()))
            .unwrap_or(BreakerState::Open)
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// Whether an error is the dependency's fault (counts against the breaker). A node that
/// answers "not the primary" is healthy: the cluster is failing over, not down.
fn is_failure(error: &RepoError) -> bool {
    match error {
        RepoError::NotPrimary { .. } => false,
        RepoError::Timeout {
            commit: CommitState::Unknown,
        }
        | RepoError::Unreachable { .. } => true,
        other => other.is_transient(),
    }
}

impl Shared {
    fn admit(&self) -> Admission {
        let now = Instant::now();
        let Ok(mut machine) = self.machine.lock() else {
            return Admission::Refused {
                retry_in: std::time::Duration::ZERO,
            };
        };
        let before = machine.stored_state();
        let admission = machine.admit(now);
        let after = machine.stored_state();
        drop(machine);
        self.transitioned(before, after);
        admission
    }

    fn record(&self, probe: bool, failed: bool) {
        let now = Instant::now();
        let Ok(mut machine) = self.machine.lock() else {
            return;
        };
        let before = machine.stored_state();
        machine.record(now, probe, failed);
        let after = machine.stored_state();
        drop(machine);
        self.transitioned(before, after);
    }

    fn transitioned(&self, from: BreakerState, to: BreakerState) {
        if from == to {
            return;
        }
        tracing::warn!(breaker = %self.name, from = from.label(), to = to.label(), "circuit breaker changed state");
        metrics::counter!(
            "repo_circuit_transitions_total",
            "breaker" => self.name.clone(),
            "from" => from.label(),
            "to" => to.label()
        )
        .increment(1);
        metrics::gauge!("repo_circuit_state", "breaker" => self.name.clone()).set(to.gauge());
    }
}

/// Records the outcome of an admitted call, also when the call is dropped unfinished.
struct Outcome {
    shared: Arc<Shared>,
    probe: bool,
    recorded: bool,
}

impl Outcome {
    fn record(mut self, failed: bool) {
        self.recorded = true;
        self.shared.record(self.probe, failed);
    }
}

impl Drop for Outcome {
    fn drop(&mut self) {
        if !self.recorded {
            self.shared.record(self.probe, true);
        }
    }
}

impl<S> Service<Request> for CircuitBreaker<S>
where
    S: Service<Request, Response = Response, Error = RepoError>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = RepoError;
    type Future = BoxFuture<'static, Result<Response, RepoError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RepoError>> {
        let open = self
            .shared
            .machine
            .lock()
            .map(|m| m.state(Instant::now()) == BreakerState::Open)
            .unwrap_or(true);
        self.refuse = open;
        if open {
            return Poll::Ready(Ok(()));
        }
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let admission = if std::mem::take(&mut self.refuse) {
            Admission::Refused {
                retry_in: self.retry_in(),
            }
        } else {
            self.shared.admit()
        };
        let probe = match admission {
            Admission::Refused { retry_in } => {
                metrics::counter!(
                    "repo_circuit_rejections_total",
                    "breaker" => self.shared.name.clone(),
                    "action" => request.action.label()
                )
                .increment(1);
                return Box::pin(futures::future::ready(Err(RepoError::CircuitOpen {
                    retry_in,
                })));
            }
            Admission::Admitted { probe } => probe,
        };
        let outcome = Outcome {
            shared: self.shared.clone(),
            probe,
            recorded: false,
        };
        let response = self.inner.call(request);
        Box::pin(async move {
            let result = response.await;
            outcome.record(result.as_ref().err().is_some_and(is_failure));
            result
        })
    }
}

impl<S> CircuitBreaker<S> {
    fn retry_in(&self) -> std::time::Duration {
        self.shared
            .machine
            .lock()
            .map(|m| m.retry_in(Instant::now()))
            .unwrap_or_default()
    }
}
