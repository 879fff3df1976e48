//! Per-call options: a timeout becomes the request's deadline and stops the call; the
//! consistency wish travels with the request.

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use blog_example::entities::tag;
use futures::future::BoxFuture;
use repo_core::{CommitState, Consistency, Repo, RepoError, RepoService, Request, Response};
use repo_tests::db;
use sea_orm::{EntityTrait, PaginatorTrait, Set};
use tower::{Layer, Service};

/// Records the requests it sees, then waits `delay` before passing them on.
#[derive(Clone)]
struct Slow {
    delay: Duration,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl Layer<RepoService> for Slow {
    type Service = SlowService;
    fn layer(&self, inner: RepoService) -> SlowService {
        SlowService {
            inner,
            delay: self.delay,
            seen: self.seen.clone(),
        }
    }
}

#[derive(Clone)]
struct SlowService {
    inner: RepoService,
    delay: Duration,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl Service<Request> for SlowService {
    type Response = Response;
    type Error = RepoError;
    type Future = BoxFuture<'static, Result<Response, RepoError>>;
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RepoError>> {
        self.inner.poll_ready(cx)
    }
    fn call(&mut self, request: Request) -> Self::Future {
        self.seen.lock().expect("lock").push(request.clone());
        let (delay, fut) = (self.delay, self.inner.call(request));
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            fut.await
        })
    }
}

fn new_tag(name: &str) -> tag::ActiveModel {
    tag::ActiveModel {
        name: Set(name.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn timeout_stops_the_call_and_says_the_write_may_have_committed() {
    let db = db::fresh().await;
    tokio::time::pause();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let slow = Slow {
        delay: Duration::from_secs(10),
        seen: seen.clone(),
    };
    let repo = Repo::builder(db.conn.clone()).layer(slow).build();
    let start = tokio::time::Instant::now();
    let err = repo
        .insert(new_tag("late"))
        .timeout(Duration::from_secs(1))
        .await
        .expect_err("timeout");
    assert!(
        matches!(
            err,
            RepoError::Timeout {
                commit: CommitState::Unknown
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.commit_state(), CommitState::Unknown);
    assert!(err.to_string().contains("may have committed"), "{err}");
    let request = seen
        .lock()
        .expect("lock")
        .pop()
        .expect("a request was sent");
    assert_eq!(
        request.deadline,
        Some(start + Duration::from_secs(1)),
        "the deadline travels with the request"
    );
    tokio::time::resume();
    assert_eq!(
        tag::Entity::find().count(&db.conn).await.expect("count"),
        0,
        "the slow write was dropped"
    );
}

#[tokio::test]
async fn default_timeout_applies_and_calls_can_override_it() {
    let db = db::fresh().await;
    tokio::time::pause();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let slow = Slow {
        delay: Duration::from_secs(2),
        seen: seen.clone(),
    };
    let repo = Repo::builder(db.conn.clone())
        .layer(slow)
        .default_timeout(Duration::from_secs(1))
        .build();
    let start = tokio::time::Instant::now();
    assert!(matches!(
        repo.insert(new_tag("a")).await,
        Err(RepoError::Timeout { .. })
    ));
    let after_first = tokio::time::Instant::now();
    let _ = repo
        .insert(new_tag("b"))
        .timeout(Duration::from_millis(1500))
        .await;
    let seen = seen.lock().expect("lock");
    assert_eq!(
        seen[0].deadline,
        Some(start + Duration::from_secs(1)),
        "default timeout"
    );
    assert_eq!(
        seen[1].deadline,
        Some(after_first + Duration::from_millis(1500)),
        "per-call timeout wins"
    );
}

#[tokio::test]
async fn an_expired_deadline_is_refused_before_writing() {
    let db = db::fresh().await;
    let repo = Repo::new(db.conn.clone());
    let mut request = Request::new(
        repo_core::Action::Execute,
        "tags",
        repo_core::Operation::Execute(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "INSERT INTO tags (name) VALUES ('x')",
        )),
    );
    request.deadline = Some(tokio::time::Instant::now() - Duration::from_millis(1));
    let err = repo.executor().execute(request).await.expect_err("expired");
    assert!(matches!(
        err,
        RepoError::Timeout {
            commit: CommitState::NotCommitted
        }
    ));
    assert_eq!(tag::Entity::find().count(&db.conn).await.expect("count"), 0);
}

#[tokio::test]
async fn consistency_travels_with_the_request() {
    let db = db::fresh().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let repo = Repo::builder(db.conn.clone())
        .layer(Slow {
            delay: Duration::ZERO,
            seen: seen.clone(),
        })
        .build();
    repo.insert(new_tag("a"))
        .consistency(Consistency::Eventual)
        .await
        .expect("insert");
    repo.insert(new_tag("b")).await.expect("insert");
    let seen = seen.lock().expect("lock");
    assert_eq!(seen[0].consistency, Consistency::Eventual);
    assert_eq!(seen[1].consistency, Consistency::ReadYourWrites);
    assert_eq!(seen[0].action, repo_core::Action::Insert);
    assert_eq!(seen[0].target, "tags");
    assert_ne!(seen[0].id, seen[1].id);
}
