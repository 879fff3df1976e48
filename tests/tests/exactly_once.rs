//! The ledger: a forwarded write runs once even when its response is lost and it is retried,
//! or when duplicates of one request race; local writes on the primary skip the ledger; old
//! entries are pruned.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use blog_example::entities::tag;
use futures::future::BoxFuture;
use repo_core::{CommitState, RepoError, RepoService, Request, Response};
use repo_litefs::ledger::{PruneConfig, Pruner, TABLE};
use repo_litefs::{ClusterSecret, ForwardConfig, ForwardLayer};
use repo_middleware::{RetryConfig, RetryLayer};
use repo_tests::cluster::{Cluster, SECRET, blog_builder};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, Set, Statement};
use tower::{Layer, Service};

/// Lets the first write through to the primary, then throws its answer away, as a
/// connection that drops after the commit would.
#[derive(Clone, Default)]
struct LoseFirstResponse(Arc<AtomicBool>);

impl Layer<RepoService> for LoseFirstResponse {
    type Service = Losing;
    fn layer(&self, inner: RepoService) -> Losing {
        Losing {
            inner,
            lost: self.0.clone(),
        }
    }
}

#[derive(Clone)]
struct Losing {
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
                    node: "node-1".into(),
                    message: "connection reset after the request was sent".into(),
                    commit: CommitState::Unknown,
                });
            }
            result
        })
    }
}

/// Forwards as node-2 to node-1, the cluster's primary, with a tracker of its own that
/// keeps saying so.
fn forward_as_node_2(cluster: &Cluster) -> ForwardLayer {
    let (tracker, _handle) = repo_litefs::tracker::PrimaryTracker::manual(
        repo_tests::cluster::state_for("node-2", "node-1"),
    );
    ForwardLayer::new(ForwardConfig::new(
        tracker,
        cluster.endpoints.clone(),
        ClusterSecret::new(SECRET).expect("secret"),
        "node-2",
    ))
}

async fn ledger_rows(db: &impl ConnectionTrait) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            format!("SELECT COUNT(*) FROM {TABLE}"),
        ))
        .await
        .expect("count")
        .expect("row");
    row.try_get_by_index(0).expect("count")
}

#[tokio::test]
async fn a_lost_response_is_retried_and_answered_from_the_ledger() {
    let cluster = Cluster::start(1).await;
    let replica = &cluster.nodes[1];
    let lose = LoseFirstResponse::default();
    let repo = blog_builder(replica.db.clone())
        .layer(RetryLayer::new(
            RetryConfig::default().backoff(Duration::from_millis(1), Duration::from_millis(5)),
        ))
        .layer(lose.clone())
        .layer(forward_as_node_2(&cluster))
        .build();

    let stored = repo
        .insert(tag::ActiveModel {
            name: Set("once".into()),
            ..Default::default()
        })
        .await
        .expect("answered by the retry");
    assert!(lose.0.load(Ordering::SeqCst), "the first response was lost");
    assert_eq!(stored.name, "once");
    let rows = tag::Entity::find()
        .all(&cluster.primary().db)
        .await
        .expect("rows");
    assert_eq!(
        rows,
        vec![stored],
        "exactly one row, and the retry returned the original one"
    );
    assert_eq!(ledger_rows(&cluster.primary().db).await, 1);

    // Without the ledger's retry the same loss surfaces as an error that says so.
    let no_retry = blog_builder(replica.db.clone())
        .layer(LoseFirstResponse::default())
        .layer(forward_as_node_2(&cluster))
        .build();
    let err = no_retry
        .insert(tag::ActiveModel {
            name: Set("twice".into()),
            ..Default::default()
        })
        .await
        .expect_err("lost");
    assert_eq!(err.commit_state(), CommitState::Unknown);
}

#[tokio::test]
async fn a_lost_response_to_a_non_idempotent_update_increments_once() {
    let cluster = Cluster::start(1).await;
    let post = cluster
        .primary()
        .repo
        .insert(blog_example::entities::post::ActiveModel {
            title: Set("t".into()),
            slug: Set("counted".into()),
            body: Set("b".into()),
            ..Default::default()
        })
        .await
        .expect("seed");
    let lose = LoseFirstResponse::default();
    let repo = blog_builder(cluster.replica(1).db.clone())
        .layer(RetryLayer::new(
            RetryConfig::default().backoff(Duration::from_millis(1), Duration::from_millis(5)),
        ))
        .layer(lose.clone())
        .layer(forward_as_node_2(&cluster))
        .build();
    use blog_example::entities::post;
    use sea_orm::{ColumnTrait, QueryFilter, sea_query::Expr};
    let bump = post::Entity::update_many()
        .col_expr(post::Column::ViewCount, Expr::cust("view_count + 1"))
        .filter(post::Column::Id.eq(post.id));
    let done = repo.update_all(bump).await.expect("answered by the retry");
    assert!(lose.0.load(Ordering::SeqCst), "the first answer was lost");
    assert_eq!(done.rows_affected, 1);
    let after = post::Entity::find_by_id(post.id)
        .one(&cluster.primary().db)
        .await
        .expect("read")
        .expect("row");
    assert_eq!(after.view_count, 1, "the retried increment ran once");
}

#[tokio::test]
async fn concurrent_duplicates_of_one_request_write_once() {
    let cluster = Cluster::start(1).await;
    let replica = cluster.replica(1).repo.clone();
    for round in 0..20 {
        let request = Request::new(
            repo_core::Action::Insert,
            "tags",
            repo_core::Operation::Execute(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "INSERT INTO tags (name) VALUES (?)",
                [format!("dup-{round}").into()],
            )),
        );
        let attempts = (0..4).map(|_| {
            let (repo, request) = (replica.clone(), request.clone());
            tokio::spawn(async move { repo.call(request, &Default::default()).await })
        });
        let answers: Vec<Response> = futures::future::join_all(attempts)
            .await
            .into_iter()
            .map(|r| r.expect("join").expect("every duplicate is answered"))
            .collect();
        assert!(
            answers.windows(2).all(|w| w[0] == w[1]),
            "all duplicates get the same answer: {answers:?}"
        );
    }
    assert_eq!(
        tag::Entity::find()
            .count(&cluster.primary().db)
            .await
            .expect("count"),
        20
    );
    assert_eq!(ledger_rows(&cluster.primary().db).await, 20);
}

#[tokio::test]
async fn local_writes_on_the_primary_skip_the_ledger() {
    let cluster = Cluster::start(1).await;
    cluster
        .primary()
        .repo
        .insert(tag::ActiveModel {
            name: Set("local".into()),
            ..Default::default()
        })
        .await
        .expect("local");
    assert_eq!(ledger_rows(&cluster.primary().db).await, 0);
    cluster
        .replica(1)
        .repo
        .insert(tag::ActiveModel {
            name: Set("forwarded".into()),
            ..Default::default()
        })
        .await
        .expect("forwarded");
    assert_eq!(ledger_rows(&cluster.primary().db).await, 1);
}

#[tokio::test]
async fn pruning_keeps_the_newest_rows_within_age_and_count() {
    let cluster = Cluster::start(1).await;
    let db = &cluster.primary().db;
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis(),
    )
    .expect("ms");
    for (i, age_ms) in [(1u8, 3 * 24 * 3600 * 1000), (2, 1000), (3, 500), (4, 10)] {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            format!("INSERT INTO {TABLE} (request_id, response, created_at) VALUES (?, ?, ?)"),
            [vec![i; 16].into(), vec![0u8].into(), (now - age_ms).into()],
        ))
        .await
        .expect("seed");
    }
    let pruner = Pruner::new(
        db.clone(),
        PruneConfig::default()
            .max_age(Duration::from_secs(24 * 3600))
            .max_rows(2),
    );
    assert_eq!(
        pruner.prune().await.expect("prune"),
        2,
        "one too old, one beyond the newest two"
    );
    assert_eq!(ledger_rows(db).await, 2);
}
