//! [`LoseResponse`]: a layer that lets a write through, then throws its answer away once,
//! as a connection that drops after the commit would.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use repo_core::{CommitState, RepoError, RepoService, Request, Response};
use tower::{Layer, Service};

/// Loses the first successful answer that passes through it (and every one after
/// [`LoseResponse::arm`]), answering `Unreachable` with an unknown commit instead.
#[derive(Clone, Default)]
pub struct LoseResponse(Arc<AtomicBool>);

impl LoseResponse {
    /// Whether the answer it was armed for has been lost.
    pub fn fired(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Loses the next successful answer too.
    pub fn arm(&self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl Layer<RepoService> for LoseResponse {
    type Service = Losing;
    fn layer(&self, inner: RepoService) -> Losing {
        Losing {
            inner,
            lost: self.0.clone(),
        }
    }
}

/// [`LoseResponse`]'s service.
#[derive(Clone)]
pub struct Losing {
    inner: RepoService,
    lost: Arc<AtomicBool>,
}

impl Service<Request> for Losing {
    type Response = Response;
    type Error = RepoError;
    type Future = BoxFuture<'static, Result<Response, RepoError>>;
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RepoError>> {
        self.inner.poll_ready(cx)
    }
    fn call(&mut self, request: Request) -> Self::Future {
        let response = self.inner.call(request);
        let lost = self.lost.clone();
        Box::pin(async move {
            let result = response.await;
            if result.is_ok() && !lost.swap(true, Ordering::SeqCst) {
                return Err(RepoError::Unreachable {
                    node: "the primary".into(),
                    message: "connection reset after the request was sent".into(),
                    commit: CommitState::Unknown,
                });
            }
            result
        })
    }
}
