//! `publish_post.v1`: publish a post and count the publication, atomically.

use repo_core::NamedTransaction;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter};

use crate::entities::post;

/// The end of the message this transaction fails with when there is no draft to publish
/// (the post is missing or already published), so that callers can tell that refusal from
/// a database failure, on every node (the message travels with a forwarded failure).
pub const NOT_A_DRAFT: &str = "does not exist or is already published";

/// Marks a post published (setting `published_at`) and bumps its `view_count` counter
/// by one as the "publication" event; fails if the post does not exist or is published.
pub struct PublishPost;

impl NamedTransaction for PublishPost {
    const NAME: &'static str = "publish_post.v1";
    type Args = i32;
    type Output = post::Model;

    async fn run(txn: &DatabaseTransaction, post_id: i32) -> Result<post::Model, DbErr> {
        let now = chrono::Utc::now().naive_utc();
        let updated = post::Entity::update_many()
            .col_expr(post::Column::Published, Expr::value(true))
            .col_expr(post::Column::PublishedAt, Expr::value(now))
            .col_expr(post::Column::UpdatedAt, Expr::value(now))
            .filter(post::Column::Id.eq(post_id))
            .filter(post::Column::Published.eq(false))
            .exec(txn)
            .await?;
        if updated.rows_affected != 1 {
            return Err(DbErr::Custom(format!("post {post_id} {NOT_A_DRAFT}")));
        }
        post::Entity::update_many()
            .col_expr(
                post::Column::ViewCount,
                Expr::col(post::Column::ViewCount).add(1),
            )
            .filter(post::Column::Id.eq(post_id))
            .exec(txn)
            .await?;
        post::Entity::find_by_id(post_id)
            .one(txn)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound(format!("post {post_id}")))
    }
}
