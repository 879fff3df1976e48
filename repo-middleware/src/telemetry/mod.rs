//! Telemetry: one tracing span and a set of metrics per repository call.
//!
//! The span `repo.call` carries `action`, `target` (table or transaction name),
//! `request_id`, and, once the call ends, `role`, `route` (`local` or `forwarded`),
//! `attempts`, `outcome` (`ok` or an error kind) and `duration_ms`. Inner layers run inside
//! the span, so their events are attributed to the call. Statement values and transaction
//! arguments are never recorded.

mod layer;

use std::task::{Context, Poll};

use futures::future::BoxFuture;
use repo_core::{RepoError, Request, Response};
use tokio::time::Instant;
use tower::Service;
use tracing::Instrument;

pub use layer::TelemetryLayer;

/// The `action` label without an allocation, except for a named transaction.
fn action_label(action: &repo_core::Action) -> metrics::SharedString {
    match action {
        repo_core::Action::Transaction(_) => metrics::SharedString::from(action.label()),
        other => metrics::SharedString::const_str(other.kind()),
    }
}

/// The service of [`TelemetryLayer`].
#[derive(Debug, Clone)]
pub struct Telemetry<S> {
    inner: S,
}

impl<S> Telemetry<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self { inner }
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

impl<S> Service<Request> for Telemetry<S>
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

    fn call(&mut self, request: Request) -> Self::Future {
        let action = action_label(&request.action);
        let span = tracing::info_span!(
            "repo.call",
            action = %action,
            target = %request.target,
            request_id = %request.id,
            role = tracing::field::Empty,
            route = tracing::field::Empty,
            attempts = tracing::field::Empty,
            outcome = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let facts = request.facts.clone();
        let started = Instant::now();
        let response = self.inner.call(request).instrument(span.clone());
        Box::pin(async move {
            let result = response.await;
            let elapsed = started.elapsed();
            let outcome = match &result {
                Ok(_) => "ok",
                Err(e) => e.kind(),
            };
            let route = if facts.forwarded() {
                "forwarded"
            } else {
                "local"
            };
            let role = facts.role().label();
            span.record("role", role);
            span.record("route", route);
            span.record("attempts", facts.attempts());
            span.record("outcome", outcome);
            span.record("duration_ms", elapsed.as_secs_f64() * 1e3);
            if let Err(e) = &result {
                // The kind only: messages can quote data.
                tracing::warn!(parent: &span, error_kind = e.kind(), "repository call failed");
            }
            metrics::counter!(
                "repo_calls_total",
                "action" => action.clone(),
                "route" => route,
                "role" => role,
                "outcome" => outcome
            )
            .increment(1);
            metrics::histogram!(
                "repo_call_duration_seconds",
                "action" => action,
                "route" => route,
                "outcome" => outcome
            )
            .record(elapsed.as_secs_f64());
            result
        })
    }
}
