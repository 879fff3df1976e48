//! `DurabilityLayer`: the gate on the primary's own writes (forwarded writes pass the gate
//! in the forwarding server).

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use repo_core::{RepoError, Request, Response};
use tower::{Layer, Service, ServiceExt};

use super::DurabilityGate;

/// Holds the answer of each write this node executes itself until its durability is met.
/// Sits between the forwarding layer and the executor, so it sees only local writes.
#[derive(Debug, Clone)]
pub struct DurabilityLayer {
    /// The node's gate, shared with its server.
    gate: Arc<DurabilityGate>,
}

impl DurabilityLayer {
    /// A layer passing local writes through `gate`.
    pub fn new(gate: Arc<DurabilityGate>) -> Self {
        Self { gate }
    }
}

impl<S> Layer<S> for DurabilityLayer {
    type Service = DurabilityService<S>;

    fn layer(&self, inner: S) -> DurabilityService<S> {
        DurabilityService {
            inner,
            gate: self.gate.clone(),
        }
    }
}

/// The service of [`DurabilityLayer`].
#[derive(Debug, Clone)]
pub struct DurabilityService<S> {
    /// The executor (and the layers before it).
    inner: S,
    /// The node's gate.
    gate: Arc<DurabilityGate>,
}

impl<S> DurabilityService<S> {
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

impl<S> Service<Request> for DurabilityService<S>
where
    S: Service<Request, Response = Response, Error = RepoError> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = RepoError;
    type Future = BoxFuture<'static, Result<Response, RepoError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RepoError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let gate = self.gate.clone();
        let inner = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, inner);
        Box::pin(async move {
            gate.check(request.durability)?;
            let (durability, deadline) = (request.durability, request.deadline);
            let began = tokio::time::Instant::now();
            let response = inner.oneshot(request).await?;
            gate.settle(durability, deadline, began).await?;
            Ok(response)
        })
    }
}
