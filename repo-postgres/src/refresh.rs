//! `RoleRefreshLayer`: a local write refused as read-only (SQLSTATE 25006) reads the role
//! again at once, instead of waiting for the next background read.

use std::task::{Context, Poll};

use futures::future::BoxFuture;
use repo_core::{RepoError, RepoService, Request, Response};
use tower::{Layer, Service};

use crate::read_only::is_read_only;
use crate::role::RoleFollower;

/// Wraps the executor (a node's executor layer): when a write this node ran itself fails
/// with SQLSTATE 25006, this node was demoted without knowing it yet, so its
/// [`RoleFollower`] reads the role again now, and the write fails with
/// [`RepoError::NotPrimary`] (it did not run; a retry is forwarded once the role is known).
#[derive(Debug, Clone)]
pub struct RoleRefreshLayer {
    /// Whom to ask for a new read.
    follower: RoleFollower,
}

impl RoleRefreshLayer {
    /// Refreshes `follower` on SQLSTATE 25006.
    pub fn new(follower: RoleFollower) -> Self {
        Self { follower }
    }
}

impl Layer<RepoService> for RoleRefreshLayer {
    type Service = RoleRefreshService;

    fn layer(&self, inner: RepoService) -> RoleRefreshService {
        RoleRefreshService {
            inner,
            follower: self.follower.clone(),
        }
    }
}

/// The service of [`RoleRefreshLayer`].
#[derive(Debug, Clone)]
pub struct RoleRefreshService {
    /// The executor.
    inner: RepoService,
    /// Whom to ask for a new read.
    follower: RoleFollower,
}

impl Service<Request> for RoleRefreshService {
    type Response = Response;
    type Error = RepoError;
    type Future = BoxFuture<'static, Result<Response, RepoError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RepoError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let response = self.inner.call(request);
        let follower = self.follower.clone();
        Box::pin(async move {
            match response.await {
                Err(e) if is_read_only(&e) => {
                    follower.refresh();
                    // The write did not run: retryable, and forwarded once the role is known.
                    Err(RepoError::NotPrimary { primary: None })
                }
                result => result,
            }
        })
    }
}
