//! `WriteCountsLayer`: counts the node's writes that were forwarded, refused or failed.
//!
//! | name | type | meaning |
//! | --- | --- | --- |
//! | `blog_writes_total` | counter | every write call that ended, label `route` (`local`/`forwarded`) |
//! | `blog_writes_forwarded_total` | counter | writes sent to the primary (this node was a replica) |
//! | `blog_writes_refused_total` | counter | writes refused before they ran (`RepoError::Rejected`: auth, allowlist, size) |
//! | `blog_writes_failed_total` | counter | writes that failed any other way (unavailable, timeout, database error) |
//!
//! Latencies are the repository's own `repo_call_duration_seconds` histogram (label
//! `route`), and the read-your-writes wait is `litefs_consistency_wait_seconds`.

use std::task::{Context, Poll};

use futures::future::BoxFuture;
use repo_core::{RepoError, Request, Response};
use tower::{Layer, Service};

/// Every write ended.
const WRITES: &str = "blog_writes_total";
/// Writes sent to the primary.
const FORWARDED: &str = "blog_writes_forwarded_total";
/// Writes refused before they ran.
const REFUSED: &str = "blog_writes_refused_total";
/// Writes that failed otherwise.
const FAILED: &str = "blog_writes_failed_total";

/// Gives every counter its description and a starting value of 0, so that a scrape shows
/// them before the first write.
pub(super) fn register() {
    metrics::describe_counter!(WRITES, "write calls that ended, by route");
    metrics::describe_counter!(FORWARDED, "writes sent to the primary");
    metrics::describe_counter!(REFUSED, "writes refused before they ran");
    metrics::describe_counter!(FAILED, "writes that failed other than by a refusal");
    for route in ["local", "forwarded"] {
        metrics::counter!(WRITES, "route" => route).absolute(0);
    }
    for name in [FORWARDED, REFUSED, FAILED] {
        metrics::counter!(name).absolute(0);
    }
}

/// Counts writes by how they ended; put it outermost, so that it sees each call once.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteCountsLayer;

impl<S> Layer<S> for WriteCountsLayer {
    type Service = WriteCounts<S>;

    fn layer(&self, inner: S) -> WriteCounts<S> {
        WriteCounts { inner }
    }
}

/// The service of [`WriteCountsLayer`].
#[derive(Debug, Clone)]
pub struct WriteCounts<S> {
    /// The rest of the stack.
    inner: S,
}

impl<S> Service<Request> for WriteCounts<S>
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
        let facts = request.facts.clone();
        let response = self.inner.call(request);
        Box::pin(async move {
            let result = response.await;
            let forwarded = facts.forwarded();
            let route = if forwarded { "forwarded" } else { "local" };
            metrics::counter!(WRITES, "route" => route).increment(1);
            if forwarded {
                metrics::counter!(FORWARDED).increment(1);
            }
            match &result {
                Ok(_) => {}
                Err(RepoError::Rejected { .. }) => metrics::counter!(REFUSED).increment(1),
                Err(_) => metrics::counter!(FAILED).increment(1),
            }
            result
        })
    }
}
