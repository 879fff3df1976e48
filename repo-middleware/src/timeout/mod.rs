//! Timeout: bounds a call by its deadline, and says whether the write may have committed.
//!
//! The deadline is the request's own (set by a per-call `.timeout(..)`) or, when it has
//! none, now plus this layer's default; it is written into the request so that later layers
//! can propagate it (the forwarding layer turns it into the gRPC deadline). When it passes,
//! the inner future is **dropped** (cancelled, not detached): a write that had not been
//! dispatched yet never runs and the error says `NotCommitted`; one already handed to the
//! database or sent to the primary may still commit there, and the error says `Unknown`,
//! so the caller can retry with the same request id.
//!
//! tower's own `timeout::Timeout` is not used: it applies one fixed duration and returns a
//! boxed `Elapsed`, where this layer honours each request's deadline and returns a typed
//! [`RepoError::Timeout`] with the commit state.

mod layer;

use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use repo_core::{CommitState, RepoError, Request, Response};
use tokio::time::Instant;
use tower::Service;

pub use layer::TimeoutLayer;

/// The service of [`TimeoutLayer`].
#[derive(Debug, Clone)]
pub struct Timeout<S> {
    inner: S,
    default: Duration,
}

impl<S> Timeout<S> {
    /// Wraps `inner`, bounding requests without a deadline by `default`.
    pub fn new(inner: S, default: Duration) -> Self {
        Self { inner, default }
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

impl<S> Service<Request> for Timeout<S>
where
    S: Service<Request, Response = Response, Error = RepoError>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = RepoError;
    type Future = BoxFuture<'static, Result<Response, RepoError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RepoError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let deadline = *request
            .deadline
            .get_or_insert_with(|| Instant::now() + self.default);
        let facts = request.facts.clone();
        let action = request.action.label();
        let response = self.inner.call(request);
        Box::pin(async move {
            match tokio::time::timeout_at(deadline, response).await {
                Ok(result) => result,
                Err(_) => {
                    let commit = if facts.dispatched() {
                        CommitState::Unknown
                    } else {
                        CommitState::NotCommitted
                    };
                    let label = match commit {
                        CommitState::NotCommitted => "not_committed",
                        CommitState::Unknown | CommitState::Committed => "unknown",
                    };
                    metrics::counter!("repo_timeouts_total", "action" => action, "commit" => label)
                        .increment(1);
                    Err(RepoError::Timeout { commit })
                }
            }
        })
    }
}
