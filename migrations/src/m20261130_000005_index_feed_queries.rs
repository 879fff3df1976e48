//! Indexes the change feed's queries: every node asks, at each change of its database, for
//! the posts published after the last one it announced (by `published_at`, then `id`) and
//! for the comments of a post. Without these indexes each question reads the whole
//! `posts` (or `comments`) table: at 700,000 posts about a tenth of a second per change,
//! on every node, which made every write wait behind it.

use sea_orm_migration::prelude::*;

use crate::m20261127_000001_create_posts::Posts;
use crate::m20261127_000003_create_comments::Comments;

/// Creates (and on `down`, drops) the feed's indexes.
#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

/// The index over posts in publication order.
const POSTS_BY_PUBLICATION: &str = "idx-posts-published_at-id";

/// The index over each post's comments.
const COMMENTS_BY_POST: &str = "idx-comments-post_id-id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(POSTS_BY_PUBLICATION)
                    .table(Posts::Table)
                    .col(Posts::PublishedAt)
                    .col(Posts::Id)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(COMMENTS_BY_POST)
                    .table(Comments::Table)
                    .col(Comments::PostId)
                    .col(Comments::Id)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(COMMENTS_BY_POST)
                    .table(Comments::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(POSTS_BY_PUBLICATION)
                    .table(Posts::Table)
                    .to_owned(),
            )
            .await
    }
}
