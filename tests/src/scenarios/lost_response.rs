//! Exactly once when the answer to a committed write is lost and the write retried.

use std::time::Duration;

use blog_example::entities::{post, tag};
use repo_core::BoxedLayer;
use repo_middleware::{RetryConfig, RetryLayer};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::backends::BackendCluster;
use crate::lose_response::LoseResponse;
use crate::write_script::{fixed_post, new_tag};

/// A write through a replica whose answer is lost after the commit, retried under the same
/// request id, is answered from the primary's ledger with the first answer: one row (an
/// insert), one increment (a non-idempotent update).
pub async fn a_lost_answer_is_retried_and_answered_once<B: BackendCluster>(cluster: &B) {
    let lose = LoseResponse::default();
    let retry = RetryLayer::new(
        RetryConfig::default().backoff(Duration::from_millis(1), Duration::from_millis(5)),
    );
    let node = cluster
        .replica_with(vec![BoxedLayer::new(retry), BoxedLayer::new(lose.clone())])
        .await;
    let repo = node.repo();

    let stored = repo
        .insert(new_tag("once"))
        .await
        .unwrap_or_else(|e| panic!("{}: answered by the retry: {e}", B::NAME));
    assert!(lose.fired(), "{}: the first answer was lost", B::NAME);
    let rows = tag::Entity::find()
        .all(cluster.primary_db())
        .await
        .expect("tags");
    assert_eq!(
        rows,
        vec![stored],
        "{}: one row, and the retry returned it",
        B::NAME
    );

    let seeded = cluster
        .replica()
        .insert(fixed_post("counted"))
        .await
        .expect("seed");
    lose.arm();
    let bump = post::Entity::update_many()
        .col_expr(post::Column::ViewCount, Expr::cust("view_count + 1"))
        .filter(post::Column::Id.eq(seeded.id));
    let done = repo
        .update_all(bump)
        .await
        .unwrap_or_else(|e| panic!("{}: answered by the retry: {e}", B::NAME));
    assert!(lose.fired(), "{}: the update's answer was lost", B::NAME);
    assert_eq!(done.rows_affected, 1, "{}", B::NAME);
    let after = post::Entity::find_by_id(seeded.id)
        .one(cluster.primary_db())
        .await
        .expect("read")
        .expect("the post");
    assert_eq!(after.view_count, 1, "{}: the increment ran once", B::NAME);
    node.shutdown().await;
}
