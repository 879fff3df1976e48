//! Generic tower layers for `repo-core`'s repository: telemetry, timeout, retry and circuit
//! breaker. They know nothing of LiteFS or gRPC and compose with any other layer, in a
//! repository's default stack or on one call:
//!
//! ```
//! use std::time::Duration;
//! use repo_middleware::{BreakerConfig, RetryConfig, StackConfig};
//!
//! let layers = StackConfig::default()
//!     .timeout(Duration::from_secs(2))
//!     .retry(RetryConfig::default().max_attempts(4))
//!     .breaker(BreakerConfig::default().consecutive_failures(3))
//!     .layers();
//! // Repo::builder(db).boxed_layer(..) for each, then the forwarding layer, then build().
//! # assert_eq!(layers.len(), 4);
//! ```
//!
//! The standard order, outermost first, is telemetry → timeout → retry → circuit breaker
//! (→ forwarding → executor): telemetry sees the whole call including retries, the timeout
//! bounds all attempts together, and the breaker counts each attempt.
//!
//! # Metrics
//!
//! Emitted through the [`metrics`] facade (install any recorder, e.g. a Prometheus exporter):
//!
//! | name | type | labels | emitted by |
//! | --- | --- | --- | --- |
//! | `repo_calls_total` | counter | `action`, `route` (`local`/`forwarded`), `role`, `outcome` (`ok` or an error kind) | telemetry |
//! | `repo_call_duration_seconds` | histogram | `action`, `route`, `outcome` | telemetry |
//! | `repo_timeouts_total` | counter | `action`, `commit` (`not_committed`/`unknown`) | timeout |
//! | `repo_retries_total` | counter | `action`, `error` (the retried error kind) | retry |
//! | `repo_retry_budget_exhausted_total` | counter | `action` | retry |
//! | `repo_circuit_transitions_total` | counter | `breaker`, `from`, `to` (`closed`/`open`/`half_open`) | breaker |
//! | `repo_circuit_state` | gauge | `breaker`; 0 closed, 1 half-open, 2 open | breaker |
//! | `repo_circuit_rejections_total` | counter | `breaker`, `action` | breaker |
//!
//! `action` is the request's action label (`insert`, `update_all`, `transaction:<name>`, …);
//! error kinds are [`repo_core::RepoError::kind`]. No label or span field ever holds a
//! statement's values or a transaction's arguments: they can be personal data.

pub mod breaker;
pub mod retry;
mod stack;
pub mod telemetry;
pub mod timeout;

pub use breaker::{BreakerConfig, BreakerState, CircuitBreakerLayer};
pub use retry::{RetryConfig, RetryLayer};
pub use stack::StackConfig;
pub use telemetry::TelemetryLayer;
pub use timeout::TimeoutLayer;
