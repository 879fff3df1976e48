//! Retry: tries a failed write again when that is safe, with backoff and a budget.
//!
//! Built on tower's own machinery: the service is `tower::retry::Retry`, the decision is a
//! [`RetryPolicy`] (a `tower::retry::Policy`), the backoff is tower's
//! `ExponentialBackoff` (exponential with jitter) and the budget is tower's `TpsBudget`, so a
//! failing primary is not stormed: retries may not exceed a share of recent first attempts.
//!
//! Only errors that [`RepoError::is_transient`] accepts are retried: a lost connection, a
//! busy database, a timeout before the write was dispatched, an unavailable primary. A
//! constraint violation, a refused request or an open circuit is returned at once. A
//! forwarded write whose connection failed after it was sent is retried too (the primary's
//! ledger answers the retry with the first attempt's result). Every
//! attempt is a clone of the same request, with the **same request id**, so the executing
//! node can recognise a duplicate; no attempt starts after the call's deadline.

mod config;
mod policy;

use tower::Layer;

pub use config::RetryConfig;
pub use policy::RetryPolicy;

use repo_core::RepoError;

/// Retries transient failures of the inner service (see the module docs).
#[derive(Debug, Clone)]
pub struct RetryLayer {
    policy: RetryPolicy,
}

impl RetryLayer {
    /// A retry layer with `config`. Clones of the layer share one budget.
    pub fn new(config: RetryConfig) -> Self {
        Self {
            policy: RetryPolicy::new(config),
        }
    }

    /// The policy every service of this layer uses.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }
}

impl Default for RetryLayer {
    fn default() -> Self {
        Self::new(RetryConfig::default())
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = tower::retry::Retry<RetryPolicy, S>;

    fn layer(&self, inner: S) -> Self::Service {
        tower::retry::Retry::new(self.policy.clone(), inner)
    }
}

/// Whether `error` may be retried: transient, and the write did not commit.
pub fn is_retryable(error: &RepoError) -> bool {
    error.is_transient()
}
