//! Refusals a replica's write meets before or outside the primary's service: a wrong
//! cluster secret (the primary's interceptor, a status without details), no endpoint for
//! the primary (this node's configuration), and a layer of the caller's own stack. Each is
//! a typed `RepoError::Rejected`, final (never retried), and writes nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use blog_example::entities::tag;
use futures::future::BoxFuture;
use repo_core::{CommitState, RejectReason, RepoError, RepoService, Request, Response};
use repo_litefs::{ClusterSecret, Endpoints, ForwardConfig, ForwardLayer};
use repo_middleware::{RetryConfig, RetryLayer};
use repo_tests::cluster::{Cluster, SECRET, blog_builder, state_for};
use sea_orm::{EntityTrait, PaginatorTrait, Set};
use tower::{Layer, Service};

/// Forwards as node-2 to node-1 with `secret` and `endpoints`.
fn forward(secret: &str, endpoints: Endpoints) -> ForwardLayer {
    let (tracker, _handle) =
        repo_litefs::tracker::PrimaryTracker::manual(state_for("node-2", "node-1"));
    ForwardLayer::new(ForwardConfig::new(
        tracker,
        endpoints,
        ClusterSecret::new(secret).expect("secret"),
        "node-2",
    ))
}

fn retry() -> RetryLayer {
    RetryLayer::new(
        RetryConfig::default().backoff(Duration::from_millis(1), Duration::from_millis(5)),
    )
}

fn new_tag(name: &str) -> tag::ActiveModel {
    tag::ActiveModel {
        name: Set(name.into()),
        ..Default::default()
    }
}

async fn tag_count(cluster: &Cluster) -> u64 {
    tag::Entity::find()
        .count(&cluster.primary().db)
        .await
        .expect("count")
}

fn assert_final_refusal(err: &RepoError, expected: impl Fn(&RejectReason) -> bool) {
    assert!(
        matches!(err, RepoError::Rejected { reason } if expected(reason)),
        "{err:?}"
    );
    assert!(!err.is_transient(), "{err:?}");
    assert_eq!(err.commit_state(), CommitState::NotCommitted);
}

#[tokio::test]
async fn a_wrong_secret_is_unauthenticated() {
    let cluster = Cluster::start(1).await;
    let repo = blog_builder(cluster.replica(1).db.clone())
        .layer(retry())
        .layer(forward(
            "another-secret-another-secret-0",
            cluster.endpoints.clone(),
        ))
        .build();
    let err = repo.insert(new_tag("x")).await.expect_err("refused");
    assert_final_refusal(&err, |r| *r == RejectReason::Unauthenticated);
    assert_eq!(tag_count(&cluster).await, 0);
}

#[tokio::test]
async fn no_endpoint_for_the_primary_is_a_misconfiguration() {
    let cluster = Cluster::start(1).await;
    let endpoints = Endpoints::map([("node-9", "http://127.0.0.1:1")]);
    let repo = blog_builder(cluster.replica(1).db.clone())
        .layer(retry())
        .layer(forward(SECRET, endpoints))
        .build();
    let err = repo.insert(new_tag("x")).await.expect_err("refused");
    assert_final_refusal(
        &err,
        |r| matches!(r, RejectReason::Misconfigured { message } if message.contains("node-1")),
    );
    assert_eq!(tag_count(&cluster).await, 0);
}

/// Refuses every call, as a maintenance switch would, and counts them.
#[derive(Clone, Default)]
struct Paused(Arc<AtomicUsize>);

impl Layer<RepoService> for Paused {
    type Service = PausedService;
    fn layer(&self, _inner: RepoService) -> PausedService {
        PausedService(self.0.clone())
    }
}

#[derive(Clone)]
struct PausedService(Arc<AtomicUsize>);

impl Service<Request> for PausedService {
    type Response = Response;
    type Error = RepoError;
    type Future = BoxFuture<'static, Result<Response, RepoError>>;
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), RepoError>> {
        Poll::Ready(Ok(()))
    }
    fn call(&mut self, _request: Request) -> Self::Future {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {
            Err(RepoError::Rejected {
                reason: RejectReason::layer("maintenance", "writes are paused"),
            })
        })
    }
}

#[tokio::test]
async fn a_custom_layers_refusal_is_returned_once_and_typed() {
    let cluster = Cluster::start(1).await;
    let paused = Paused::default();
    let repo = blog_builder(cluster.primary().db.clone())
        .layer(retry())
        .layer(paused.clone())
        .build();
    let err = repo.insert(new_tag("x")).await.expect_err("refused");
    assert_final_refusal(
        &err,
        |r| matches!(r, RejectReason::Layer { layer, .. } if layer == "maintenance"),
    );
    assert_eq!(paused.0.load(Ordering::SeqCst), 1, "not retried");
    assert_eq!(tag_count(&cluster).await, 0);
}
