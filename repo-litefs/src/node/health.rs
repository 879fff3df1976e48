//! `NodeHealth`: a snapshot of what a node knows about itself, for a health endpoint; and
//! the layer that remembers the last failed call.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::SystemTime;

use futures::future::BoxFuture;
use repo_core::{RepoError, RepoService, Request, Response};
use repo_middleware::{BreakerState, CircuitBreakerLayer};
use tower::{Layer, Service};

use crate::lag::{ReplicationLag, SampledLag, read_lag};
use crate::tracker::{PrimaryTracker, Role};

/// What a node knows about itself right now. Reading it does no network I/O; the lag is
/// read from LiteFS's `.lag` file (a small local read), or from memory where the backend
/// samples it (PostgreSQL).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeHealth {
    /// This node's name.
    pub node: String,
    /// Whether it writes (primary) or forwards (replica), as its tracker says.
    pub role: Role,
    /// The primary it knows of.
    pub primary: Option<String>,
    /// How far its database is behind the primary, or why that is not known.
    pub replication_lag: ReplicationLag,
    /// The state of its circuit breaker; `None` without the standard stack.
    pub circuit: Option<BreakerState>,
    /// The last call that failed, if any.
    pub last_error: Option<LastError>,
}

/// A failed call, as [`NodeHealth`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastError {
    /// [`RepoError::kind`]: `timeout`, `unreachable`, `unique_violation`, …
    pub kind: &'static str,
    /// The error's message.
    pub message: String,
    /// When it happened.
    pub at: SystemTime,
}

/// Where a node's health comes from.
#[derive(Debug, Clone)]
pub(crate) struct HealthSource {
    pub(crate) node: String,
    pub(crate) tracker: PrimaryTracker,
    pub(crate) mount_dir: Option<PathBuf>,
    /// The backend's own lag, when it samples one (`Backend::replication_lag`); otherwise
    /// LiteFS's `.lag` in `mount_dir`.
    pub(crate) sampled_lag: Option<SampledLag>,
    pub(crate) breaker: Option<CircuitBreakerLayer>,
    pub(crate) last_error: LastErrorLayer,
}

impl HealthSource {
    pub(crate) fn snapshot(&self) -> NodeHealth {
        let state = self.tracker.current();
        NodeHealth {
            node: self.node.clone(),
            role: state.role,
            primary: state.primary.clone(),
            replication_lag: match &self.sampled_lag {
                Some(lag) => lag.get(),
                None => read_lag(self.mount_dir.as_deref()),
            },
            circuit: self.breaker.as_ref().map(CircuitBreakerLayer::state),
            last_error: self.last_error.last(),
        }
    }
}

/// Remembers the last error of the calls passing through it.
#[derive(Debug, Clone, Default)]
pub(crate) struct LastErrorLayer {
    /// The last failure, shared by every service this layer made.
    last: Arc<Mutex<Option<LastError>>>,
}

impl LastErrorLayer {
    fn last(&self) -> Option<LastError> {
        self.last.lock().ok().and_then(|l| l.clone())
    }
}

impl Layer<RepoService> for LastErrorLayer {
    type Service = LastErrorService;

    fn layer(&self, inner: RepoService) -> LastErrorService {
        LastErrorService {
            inner,
            last: self.last.clone(),
        }
    }
}

/// The service of [`LastErrorLayer`].
#[derive(Clone)]
pub(crate) struct LastErrorService {
    inner: RepoService,
    last: Arc<Mutex<Option<LastError>>>,
}

impl Service<Request> for LastErrorService {
    type Response = Response;
    type Error = RepoError;
    type Future = BoxFuture<'static, Result<Response, RepoError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RepoError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let (call, last) = (self.inner.call(request), self.last.clone());
        Box::pin(async move {
            let result = call.await;
            if let Err(e) = &result
                && let Ok(mut slot) = last.lock()
            {
                *slot = Some(LastError {
                    kind: e.kind(),
                    message: e.to_string(),
                    at: SystemTime::now(),
                });
            }
            result
        })
    }
}
