//! Test layers: one that counts the requests passing through, one that answers by itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use repo_core::{RepoError, RepoService, Request, Response};
use tower::{Layer, Service};

/// Counts requests and passes them on.
#[derive(Clone, Default)]
pub struct CountingLayer {
    /// Requests seen so far, shared by every service this layer made.
    pub calls: Arc<AtomicUsize>,
}

impl CountingLayer {
    /// Requests seen so far.
    pub fn count(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Layer<RepoService> for CountingLayer {
    type Service = Counting;

    fn layer(&self, inner: RepoService) -> Counting {
        Counting {
            inner,
            calls: self.calls.clone(),
        }
    }
}

/// The service of [`CountingLayer`].
#[derive(Clone)]
pub struct Counting {
    inner: RepoService,
    calls: Arc<AtomicUsize>,
}

impl Service<Request> for Counting {
    type Response = Response;
    type Error = RepoError;
    type Future = BoxFuture<'static, Result<Response, RepoError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RepoError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(self.inner.call(request))
    }
}

/// Answers every request with a fixed response and never calls its inner service.
#[derive(Clone)]
pub struct AnswerLayer {
    /// The answer.
    pub response: Response,
}

impl Layer<RepoService> for AnswerLayer {
    type Service = Answer;

    fn layer(&self, _inner: RepoService) -> Answer {
        Answer {
            response: self.response.clone(),
        }
    }
}

/// The service of [`AnswerLayer`].
#[derive(Clone)]
pub struct Answer {
    response: Response,
}

impl Service<Request> for Answer {
    type Response = Response;
    type Error = RepoError;
    type Future = futures::future::Ready<Result<Response, RepoError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), RepoError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _request: Request) -> Self::Future {
        futures::future::ready(Ok(self.response.clone()))
    }
}
