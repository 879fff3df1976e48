//! A layer that only calls its inner service, boxing its future as real layers do.

use std::task::{Context, Poll};

use futures::future::BoxFuture;
use repo_core::{RepoError, RepoService, Request, Response};
use tower::{Layer, Service};

/// Wraps a service without changing anything.
#[derive(Clone)]
pub(crate) struct PassThrough;

impl Layer<RepoService> for PassThrough {
    type Service = PassThroughService;
    fn layer(&self, inner: RepoService) -> PassThroughService {
        PassThroughService(inner)
    }
}

/// The service of [`PassThrough`].
#[derive(Clone)]
pub(crate) struct PassThroughService(RepoService);

impl Service<Request> for PassThroughService {
    type Response = Response;
    type Error = RepoError;
    type Future = BoxFuture<'static, Result<Response, RepoError>>;
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RepoError>> {
        self.0.poll_ready(cx)
    }
    fn call(&mut self, request: Request) -> Self::Future {
        Box::pin(self.0.call(request))
    }
}
