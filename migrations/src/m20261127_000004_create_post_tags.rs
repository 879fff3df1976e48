//! Creates the `post_tags` junction table linking posts to tags.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261127_000001_create_posts::Posts;
use crate::m20261127_000002_create_tags::Tags;

/// Creates (and on `down`, drops) the `post_tags` table.
///
/// The primary key is `(post_id, tag_id)`, so a post carries a tag at most
/// once; deleting either side removes the link.
#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PostTags::Table)
                    .if_not_exists()
                    .col(integer(PostTags::PostId))
                    .col(integer(PostTags::TagId))
                    .primary_key(Index::create().col(PostTags::PostId).col(PostTags::TagId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk-post_tags-post_id")
                            .from(PostTags::Table, PostTags::PostId)
                            .to(Posts::Table, Posts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk-post_tags-tag_id")
                            .from(PostTags::Table, PostTags::TagId)
                            .to(Tags::Table, Tags::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PostTags::Table).to_owned())
            .await
    }
}

/// Identifiers of the `post_tags` table and its columns.
#[derive(DeriveIden)]
enum PostTags {
    Table,
    PostId,
    TagId,
}
