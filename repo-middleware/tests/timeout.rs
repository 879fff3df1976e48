//! Timeout: fires at the deadline, cancels the inner future, reports whether the write may
//! have committed, and lets a per-call deadline win over the default.

mod support;

use std::time::Duration;

use repo_core::{CommitState, RepoError};
use repo_middleware::TimeoutLayer;
use support::{Scripted, Step, metric, request, with_metrics};
use tokio::time::Instant;
use tower::{Layer, ServiceExt};

#[test]
fn a_dispatched_write_that_times_out_may_have_committed() {
    let ((), metrics) = with_metrics(async {
        let inner = Scripted::new([Step::Hang]);
        let start = Instant::now();
        let err = TimeoutLayer::new(Duration::from_secs(2))
            .layer(inner.clone())
            .oneshot(request())
            .await
            .expect_err("times out");
        assert!(
            matches!(
                err,
                RepoError::Timeout {
                    commit: CommitState::Unknown
                }
            ),
            "{err:?}"
        );
        assert_eq!(Instant::now() - start, Duration::from_secs(2));
        let seen = inner.seen.lock().expect("lock");
        assert_eq!(
            seen[0].1.deadline,
            Some(start + Duration::from_secs(2)),
            "the deadline is written into the request"
        );
    });
    assert_eq!(
        metric(
            &metrics,
            "repo_timeouts_total",
            &[("action", "insert"), ("commit", "unknown")]
        ),
        Some(1.0)
    );
}

/// An inner service that waits before it dispatches anything, and notes if it is dropped.
#[derive(Clone)]
struct SlowToStart(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl tower::Service<repo_core::Request> for SlowToStart {
    type Response = repo_core::Response;
    type Error = RepoError;
    type Future = futures::future::BoxFuture<'static, Result<repo_core::Response, RepoError>>;
    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), RepoError>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn call(&mut self, req: repo_core::Request) -> Self::Future {
        struct Dropped(std::sync::Arc<std::sync::atomic::AtomicBool>);
        impl Drop for Dropped {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let guard = Dropped(self.0.clone());
        Box::pin(async move {
            let _guard = guard;
            tokio::time::sleep(Duration::from_secs(60)).await;
            req.facts.mark_dispatched();
            Ok(support::ok())
        })
    }
}

#[tokio::test(start_paused = true)]
async fn an_undispatched_write_did_not_commit_and_its_future_is_cancelled() {
    let dropped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let err = TimeoutLayer::new(Duration::from_secs(1))
        .layer(SlowToStart(dropped.clone()))
        .oneshot(request())
        .await
        .expect_err("times out");
    assert!(
        matches!(
            err,
            RepoError::Timeout {
                commit: CommitState::NotCommitted
            }
        ),
        "{err:?}"
    );
    assert!(err.is_transient(), "safe to retry");
    assert!(
        dropped.load(std::sync::atomic::Ordering::SeqCst),
        "the inner future was dropped, not detached"
    );
}

#[tokio::test(start_paused = true)]
async fn the_request_deadline_wins_over_the_default() {
    let inner = Scripted::new([Step::Hang]);
    let mut req = request();
    let start = Instant::now();
    req.deadline = Some(start + Duration::from_secs(30));
    let err = TimeoutLayer::new(Duration::from_secs(2))
        .layer(inner)
        .oneshot(req)
        .await
        .expect_err("times out");
    assert!(matches!(err, RepoError::Timeout { .. }));
    assert_eq!(
        Instant::now() - start,
        Duration::from_secs(30),
        "the longer per-call deadline applied"
    );
}

#[tokio::test(start_paused = true)]
async fn a_fast_call_is_untouched() {
    let inner = Scripted::new([Step::Ok]);
    let response = TimeoutLayer::default()
        .layer(inner)
        .oneshot(request())
        .await
        .expect("ok");
    assert_eq!(response, support::ok());
}
