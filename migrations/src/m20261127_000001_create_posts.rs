//! Creates the `posts` table: one row per blog post.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates (and on `down`, drops) the `posts` table.
#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Posts::Table)
                    .if_not_exists()
                    .col(pk_auto(Posts::Id))
                    .col(string(Posts::Title))
                    .col(string_uniq(Posts::Slug))
                    .col(text(Posts::Body))
                    .col(boolean(Posts::Published).default(false))
                    .col(big_integer(Posts::ViewCount).default(0i64))
                    .col(boolean(Posts::Archived).default(false))
                    .col(date_time(Posts::CreatedAt))
                    .col(date_time(Posts::UpdatedAt))
                    .col(date_time_null(Posts::PublishedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Posts::Table).to_owned())
            .await
    }
}

/// Identifiers of the `posts` table and its columns.
#[derive(DeriveIden)]
pub(crate) enum Posts {
    Table,
    Id,
    Title,
    Slug,
    Body,
    Published,
    ViewCount,
    Archived,
    CreatedAt,
    UpdatedAt,
    PublishedAt,
}
